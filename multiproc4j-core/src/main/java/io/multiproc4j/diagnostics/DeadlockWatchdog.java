package io.multiproc4j.diagnostics;

import java.lang.management.LockInfo;
import java.lang.management.ManagementFactory;
import java.lang.management.MonitorInfo;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Finds threads of this JVM deadlocked on monitors ({@code synchronized}) or ownable synchronizers
 * ({@link java.util.concurrent.locks.ReentrantLock} and kin), once or every interval, and tells a
 * callback in plain words.
 * {@snippet :
 * try (var watchdog = DeadlockWatchdog.start(Duration.ofSeconds(5), d -> log.error(d.describe()))) {
 *     runTheApplication();
 * }
 * }
 * <h2>Concurrency</h2>
 * One daemon thread, {@code multiproc4j-deadlock-watchdog}, asks {@link ThreadMXBean#findDeadlockedThreads()}
 * every interval and calls the callback on that thread. A deadlock is reported once: the same cycle of
 * thread ids is not reported again (the threads of a deadlock never leave it). A callback that throws
 * is not retried, and the watchdog goes on.
 * <h2>Limits</h2>
 * The JDK does not see deadlocks among virtual threads ({@code findDeadlockedThreads} ignores them),
 * nor waits on locks that have no owner thread ({@code Semaphore}, {@code CountDownLatch}), nor
 * cycles across processes.
 */
public final class DeadlockWatchdog implements AutoCloseable {

    /**
     * A set of threads each waiting for a lock another of them holds.
     * @param threads the deadlocked threads, with their stacks and locks
     */
    public record Deadlock(List<ThreadInfo> threads) {
        /**
         * @param threads the deadlocked threads
         */
        public Deadlock {
            threads = List.copyOf(threads);
        }

        /** @return one paragraph per thread: what it waits for, who holds it, where it stands */
        public String describe() {
            StringBuilder b = new StringBuilder();
            b.append("Deadlock: ").append(threads.size()).append(" threads wait for each other.\n");
            for (ThreadInfo t : threads) {
                b.append("  thread \"").append(t.getThreadName()).append("\" (id ").append(t.getThreadId())
                        .append(") waits for ").append(lockWords(t.getLockInfo()));
                if (t.getLockOwnerName() != null) {
                    b.append(", held by thread \"").append(t.getLockOwnerName()).append("\" (id ")
                            .append(t.getLockOwnerId()).append(')');
                }
                StackTraceElement where = firstApplicationFrame(t.getStackTrace());
                if (where != null) {
                    b.append(",\n    at ").append(where);
                }
                List<String> held = new ArrayList<>();
                for (MonitorInfo m : t.getLockedMonitors()) {
                    held.add(lockWords(m));
                }
                for (LockInfo l : t.getLockedSynchronizers()) {
                    held.add(lockWords(l));
                }
                if (!held.isEmpty()) {
                    b.append(";\n    it holds ").append(String.join(", ", held));
                }
                b.append('\n');
            }
            return b.toString();
        }

        /** @return the first frame outside the JDK (where the application asked for the lock), else the top */
        private static StackTraceElement firstApplicationFrame(StackTraceElement[] stack) {
            for (StackTraceElement frame : stack) {
                String c = frame.getClassName();
                if (!(c.startsWith("java.") || c.startsWith("jdk.") || c.startsWith("sun."))) {
                    return frame;
                }
            }
            return stack.length > 0 ? stack[0] : null;
        }

        private static String lockWords(LockInfo lock) {
            if (lock == null) {
                return "a lock";
            }
            return "a " + lock.getClassName() + " (identity " + Integer.toHexString(lock.getIdentityHashCode()) + ")";
        }
    }

    private final ScheduledExecutorService timer;
    private final Set<Set<Long>> reported = new HashSet<>();

    private DeadlockWatchdog(Duration interval, Consumer<? super Deadlock> onDeadlock) {
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "multiproc4j-deadlock-watchdog");
            t.setDaemon(true);
            return t;
        });
        long nanos = interval.toNanos();
        timer.scheduleWithFixedDelay(() -> {
            try {
                check().ifPresent(d -> {
                    Set<Long> ids = new HashSet<>();
                    d.threads().forEach(t -> ids.add(t.getThreadId()));
                    if (reported.add(ids)) {
                        onDeadlock.accept(d);
                    }
                });
            } catch (RuntimeException | Error e) {
                // a failing callback must not stop the watchdog (the executor would cancel the task)
            }
        }, nanos, nanos, TimeUnit.NANOSECONDS);
    }

    /**
     * Starts watching this JVM.
     * @param interval   how often to look, positive
     * @param onDeadlock called on the watchdog's thread, once per deadlock found
     * @return the running watchdog; {@link #close()} stops it
     * @throws IllegalArgumentException when the interval is not positive
     */
    public static DeadlockWatchdog start(Duration interval, Consumer<? super Deadlock> onDeadlock) {
        Objects.requireNonNull(interval, "interval");
        Objects.requireNonNull(onDeadlock, "onDeadlock");
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("watchdog interval must be positive, was " + interval);
        }
        return new DeadlockWatchdog(interval, onDeadlock);
    }

    /**
     * Starts watching this JVM, printing each deadlock found to {@code System.err}.
     * @param interval how often to look, positive
     * @return the running watchdog
     */
    public static DeadlockWatchdog start(Duration interval) {
        return start(interval, d -> System.err.print(d.describe()));
    }

    /** @return the threads of this JVM deadlocked now, if any */
    public static Optional<Deadlock> check() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long[] ids = threads.findDeadlockedThreads();
        if (ids == null || ids.length == 0) {
            return Optional.empty();
        }
        ThreadInfo[] infos = threads.getThreadInfo(ids, true, true);
        List<ThreadInfo> alive = Arrays.stream(infos).filter(Objects::nonNull).toList();
        return alive.isEmpty() ? Optional.empty() : Optional.of(new Deadlock(alive));
    }

    /** Stops watching. Calling it again does nothing. */
    @Override
    public void close() {
        timer.shutdownNow();
    }
}
