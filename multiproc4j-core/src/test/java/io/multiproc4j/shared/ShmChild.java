package io.multiproc4j.shared;

import io.multiproc4j.sync.ProcessLock;
import io.multiproc4j.sync.ProcessReentrantLock;

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
            default -> throw new IllegalArgumentException("unknown mode " + args[0]);
        }
    }
}
