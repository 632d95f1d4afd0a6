package io.multiproc4j.cli;

import java.lang.management.ManagementFactory;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A program for {@link DeadlocksCommandTest} to inspect: with argument {@code deadlock}, threads
 * "alpha" and "beta" take two monitors in opposite orders, and threads "gamma" and "delta" two
 * {@link ReentrantLock}s likewise; it prints {@code DEADLOCKED} once the JVM itself sees the deadlocks.
 * With {@code healthy} it prints {@code READY}. With {@code process-locks FIRST SECOND} it takes the
 * {@code ProcessLock} named FIRST, prints {@code HOLDING}, and after a line on its standard input asks for
 * SECOND (two such programs with the names swapped deadlock across processes). Then it waits for its standard input to close (its
 * parent test ending), so it never outlives the test.
 */
public final class DeadlockedProgram {
    private DeadlockedProgram() {}

    /**
     * @param args {@code deadlock} or {@code healthy}
     * @throws Exception never expected
     */
    public static void main(String[] args) throws Exception {
        if (args[0].equals("process-locks")) {
            // process-locks FIRST SECOND: take FIRST, say HOLDING, wait for a line on stdin, then take SECOND
            io.multiproc4j.sync.ProcessLock first = io.multiproc4j.sync.ProcessLock.attach(args[1]);
            io.multiproc4j.sync.ProcessLock second = io.multiproc4j.sync.ProcessLock.attach(args[2]);
            first.lock();
            System.out.println("HOLDING");
            System.out.flush();
            var in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in,
                    java.nio.charset.StandardCharsets.UTF_8));
            if (in.readLine() == null) {
                System.exit(0); // the test ended before asking for the deadlock
            }
            second.lock(); // blocks for ever: the other program holds it and waits for FIRST
            System.out.println("unreachable");
            System.exit(1);
        }
        if (args[0].equals("deadlock")) {
            Object first = new Object();
            Object second = new Object();
            CountDownLatch monitorsHeld = new CountDownLatch(2);
            start("alpha", () -> {
                synchronized (first) {
                    monitorsHeld.countDown();
                    awaitQuietly(monitorsHeld);
                    synchronized (second) {
                        System.out.println("unreachable");
                    }
                }
            });
            start("beta", () -> {
                synchronized (second) {
                    monitorsHeld.countDown();
                    awaitQuietly(monitorsHeld);
                    synchronized (first) {
                        System.out.println("unreachable");
                    }
                }
            });
            ReentrantLock left = new ReentrantLock();
            ReentrantLock right = new ReentrantLock();
            CountDownLatch locksHeld = new CountDownLatch(2);
            start("gamma", () -> crossLock(left, right, locksHeld));
            start("delta", () -> crossLock(right, left, locksHeld));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            var threads = ManagementFactory.getThreadMXBean();
            while (true) {
                long[] ids = threads.findDeadlockedThreads();
                if (ids != null && ids.length == 4) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    System.out.println("NO DEADLOCK");
                    System.exit(1);
                }
                Thread.onSpinWait();
            }
            System.out.println("DEADLOCKED");
        } else {
            System.out.println("READY");
        }
        System.out.flush();
        System.in.read(); // returns -1 when the parent closes our stdin or dies
        System.exit(0);
    }

    private static void crossLock(ReentrantLock a, ReentrantLock b, CountDownLatch held) {
        a.lock();
        try {
            held.countDown();
            awaitQuietly(held);
            b.lock();
            b.unlock();
        } finally {
            a.unlock();
        }
    }

    private static void start(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
