package io.multiproc4j.shared;

import io.multiproc4j.sync.ProcessBarrier;
import io.multiproc4j.sync.ProcessCondition;
import io.multiproc4j.sync.ProcessLock;
import io.multiproc4j.sync.ProcessReentrantLock;
import io.multiproc4j.sync.ProcessSemaphore;
import java.io.ByteArrayInputStream;
import java.io.ObjectInputStream;
import java.util.Base64;
import java.util.concurrent.BrokenBarrierException;

/**
 * The main of helper JVMs started by tests ({@link ChildJvm}). Modes:
 * <ul>
 *   <li>{@code create-and-hang NAME}: creates segment NAME, prints {@code READY}, waits for stdin EOF.</li>
 *   <li>{@code create-one}: creates (and closes) a segment, which cleans leftovers; prints {@code DONE}.</li>
 *   <li>{@code lock-and-hang NAME}: attaches lock NAME, locks it, prints {@code LOCKED}, waits.</li>
 *   <li>{@code lock-mark-and-hang LOCK OWNER}: locks LOCK, marks the SharedLong OWNER with -1 (as
 *       the stress test's critical section does), prints {@code LOCKED}, waits to be killed.</li>
 *   <li>{@code rlock-twice-and-halt-on-input NAME}: attaches reentrant lock NAME, locks it twice,
 *       prints {@code LOCKED 2}, and halts on the first byte (or EOF) of stdin.</li>
 *   <li>{@code semaphore-acquire-and-hang NAME N}: takes N permits of semaphore NAME, prints
 *       {@code ACQUIRED N}, waits to be killed.</li>
 *   <li>{@code semaphore-churn NAME}: acquires and releases a permit of semaphore NAME forever,
 *       after printing {@code STARTED}.</li>
 *   <li>{@code barrier-await NAME}: prints {@code ARRIVING}, awaits barrier NAME, prints how it ended.</li>
 *   <li>{@code barrier-await-hanging-action NAME}: awaits barrier NAME with an action (run when this
 *       party trips it) that prints {@code ACTION} and waits for stdin.</li>
 *   <li>{@code condition-await BASE64}: deserializes {@code [lock, condition]}, locks, prints
 *       {@code WAITING}, awaits a signal, prints {@code SIGNALLED}.</li>
 *   <li>{@code condition-await-many BASE64 N}: the same in N threads; prints {@code STARTED N}
 *       once all are started (the test waits for the condition's count), then waits.</li>
 * </ul>
 */
public final class ShmChild {
    private ShmChild() {}

    /**
     * @param args the mode and its arguments
     * @throws Exception on failure (the test sees the output)
     */
    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "create-and-hang" -> {
                SharedMemory memory = SharedMemory.create(args[1], 4096);
                System.out.println("READY " + memory.name());
                System.out.flush();
                System.in.read();
            }
            case "create-one" -> {
                try (SharedMemory memory = SharedMemory.create(64)) {
                    System.out.println("DONE " + memory.name());
                }
            }
            case "lock-and-hang" -> {
                ProcessLock lock = ProcessLock.attach(args[1]);
                lock.lock();
                System.out.println("LOCKED");
                System.out.flush();
                System.in.read();
            }
            case "lock-mark-and-hang" -> {
                ProcessLock lock = ProcessLock.attach(args[1]);
                try (SharedLong owner = SharedLong.attach(args[2])) {
                    lock.lock();
                    if (lock.recoveredFromDeadHolder()) {
                        owner.set(0); // the previous marker died holding it: repair
                    }
                    if (!owner.compareAndSet(0, -1)) {
                        System.out.println("EXCLUSION BROKEN: owner " + owner.get());
                    }
                    System.out.println("LOCKED");
                    System.out.flush();
                    System.in.read();
                }
            }
            case "rlock-twice-and-halt-on-input" -> {
                ProcessReentrantLock lock = ProcessReentrantLock.attach(args[1]);
                lock.lock();
                lock.lock();
                System.out.println("LOCKED " + lock.getHoldCount());
                System.out.flush();
                System.in.read();
                Runtime.getRuntime().halt(137); // dies holding it twice, no unlock, no shutdown hooks
            }
            case "semaphore-acquire-and-hang" -> {
                ProcessSemaphore semaphore = ProcessSemaphore.attach(args[1]);
                int n = Integer.parseInt(args[2]);
                for (int i = 0; i < n; i++) {
                    semaphore.acquire();
                }
                System.out.println("ACQUIRED " + n);
                System.out.flush();
                System.in.read();
            }
            case "semaphore-churn" -> {
                ProcessSemaphore semaphore = ProcessSemaphore.attach(args[1]);
                System.out.println("STARTED");
                System.out.flush();
                for (;;) {
                    semaphore.acquire();
                    semaphore.release();
                }
            }
            case "barrier-await" -> {
                ProcessBarrier barrier = ProcessBarrier.attach(args[1], null);
                System.out.println("ARRIVING");
                System.out.flush();
                try {
                    System.out.println("PASSED " + barrier.await());
                } catch (BrokenBarrierException e) {
                    System.out.println("BROKEN " + e.getMessage());
                }
            }
            case "barrier-await-hanging-action" -> {
                ProcessBarrier barrier = ProcessBarrier.attach(args[1], () -> {
                    System.out.println("ACTION");
                    System.out.flush();
                    try {
                        System.in.read();
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                System.out.println("ARRIVING");
                System.out.flush();
                System.out.println("PASSED " + barrier.await());
            }
            case "condition-await-many" -> {
                Object[] pair;
                try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(
                        Base64.getDecoder().decode(args[1])))) {
                    pair = (Object[]) in.readObject();
                }
                ProcessLock lock = (ProcessLock) pair[0];
                ProcessCondition condition = (ProcessCondition) pair[1];
                int n = Integer.parseInt(args[2]);
                for (int i = 0; i < n; i++) {
                    Thread.ofPlatform().start(() -> {
                        lock.lock();
                        try {
                            condition.awaitUninterruptibly();
                        } finally {
                            lock.unlock();
                        }
                    });
                }
                System.out.println("STARTED " + n);
                System.out.flush();
                System.in.read();
            }
            case "condition-await" -> {
                Object[] pair;
                try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(
                        Base64.getDecoder().decode(args[1])))) {
                    pair = (Object[]) in.readObject();
                }
                ProcessLock lock = (ProcessLock) pair[0];
                ProcessCondition condition = (ProcessCondition) pair[1];
                lock.lock();
                try {
                    System.out.println("WAITING");
                    System.out.flush();
                    condition.await();
                    System.out.println("SIGNALLED");
                } finally {
                    lock.unlock();
                }
            }
            default -> throw new IllegalArgumentException("unknown mode " + args[0]);
        }
    }
}
