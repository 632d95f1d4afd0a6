package io.multiproc4j.internal.transport;

import io.multiproc4j.internal.shm.ProcessIdentity;
import io.multiproc4j.internal.shm.Segment;
import io.multiproc4j.internal.shm.SegmentLayout;
import java.io.Closeable;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The shared-memory segment of one worker's data path: a request ring (pool → worker: BATCH,
 * SHUTDOWN) and a result ring (worker → pool: READY, INIT_FAILED, RESULTS, FAILED, RETIRING), each
 * a {@link ShmRing}. The socket stays the lifeline (either side's death is its EOF), carries the
 * handshake, SETUP (which names this segment), RECALL and RECALLED.
 *
 * <pre>
 *  pool: create (at connect) ─► SETUP names it ─► worker: attach ─► unlink (both have it mapped now)
 *  pool: close (after its reader delivered the last record) ─► unlinks too if the worker never did
 * </pre>
 *
 * <h2>Crash handling</h2>
 * The file lives from the pool's create to the worker's attach, a few milliseconds; the pool's close
 * removes it if the worker never attached (it died starting). A pool JVM killed inside that window
 * leaves the file with a dead owner in its header, which the next segment created by any JVM of
 * this library removes ({@link Segment#removeLeftovers()}). Names start with {@link #prefix()} (the
 * pool's pid), so a test finds its own.
 *
 * <p>{@code -Dmultiproc4j.transport=ring} turns the rings on (the default is everything over the
 * socket, see {@link #PROPERTY}); any failure to create the segment falls back to the socket
 * (logged once per pool JVM).
 */
public final class WorkerRings implements Closeable {
    /**
     * The system property that chooses the data path: {@code socket} (default) or {@code ring}. Not the
     * ring by default: on 2 cores it halves the warm round trip (38 against 69 µs) and doubles tiny
     * tasks (360k against 176k per second), but a worker's first futex call links an FFM downcall,
     * ~125–145 ms of CPU in a fresh JVM (most of it class loading and the JIT), which doubles a new
     * pool's time to its first result (404 against 177 ms); docs/BENCHMARKS.md has the run.
     */
    public static final String PROPERTY = "multiproc4j.transport";
    /**
     * How long a ring's consumer (the pool's reader, an idle worker's main thread) spins for the next
     * record before it sleeps, at most ({@link ShmRing.AdaptiveSpin}): {@code
     * -Dmultiproc4j.transport.spinNanos} (workers inherit it from the pool JVM's command line,
     * see JvmCommand), else 20 µs with 4 processors or more and none below. Measured on 2
     * cores at load 14–20 (docs/BENCHMARKS.md): the spin saved no system call and cost 10–20 % more
     * CPU, so a machine with few cores does not spin unless asked.
     */
    public static final long SPIN_NANOS = Long.getLong("multiproc4j.transport.spinNanos",
            Runtime.getRuntime().availableProcessors() >= 4 ? 20_000 : 0);
    /** Data bytes of each ring. */
    public static final long RING_BYTES = 1L << 21;
    private static final AtomicLong COUNT = new AtomicLong();
    private static volatile boolean warned;

    private final Segment segment;
    private final ShmRing requests;
    private final ShmRing results;

    private WorkerRings(Segment segment) {
        this.segment = segment;
        this.requests = new ShmRing(segment.data(), 0, RING_BYTES);
        this.results = new ShmRing(segment.data(), ShmRing.sizeOf(RING_BYTES), RING_BYTES);
    }

    /** @return whether new workers get rings ({@value #PROPERTY} is {@code ring}) */
    public static boolean enabled() {
        String value = System.getProperty(PROPERTY, "socket");
        if (!value.equals("ring") && !value.equals("socket")) {
            throw new IllegalArgumentException("-D" + PROPERTY + "=" + value + " is not a transport: use socket (the "
                    + "default) or ring (shared memory, with the socket as lifeline)");
        }
        return value.equals("ring");
    }

    /** @return the name prefix of this JVM's ring segments (a file is {@code /dev/shm/mp4j-} + name) */
    public static String prefix() {
        return "pool-" + ProcessIdentity.PID + "-";
    }

    /**
     * Creates a worker's rings, in the pool JVM.
     *
     * @param workerName the worker's name (part of the file's name)
     * @return the rings, or null when they cannot be made here (the worker then uses the socket alone)
     */
    public static WorkerRings create(String workerName) {
        try {
            String name = prefix() + workerName.replaceAll("[^A-Za-z0-9._-]", "_") + "-" + COUNT.incrementAndGet();
            return new WorkerRings(Segment.create(name, 2 * ShmRing.sizeOf(RING_BYTES), SegmentLayout.KIND_RAW));
        } catch (RuntimeException | LinkageError e) {
            if (!warned) {
                warned = true;
                System.getLogger(WorkerRings.class.getName()).log(System.Logger.Level.WARNING,
                        "worker rings in shared memory are not available (" + e + "); workers use their socket alone");
            }
            return null;
        }
    }

    /**
     * Maps a worker's rings, in the worker, and unlinks the file: both processes have it mapped now.
     *
     * @param name the name SETUP gave
     * @return the rings
     */
    public static WorkerRings attach(String name) {
        Segment segment = Segment.attach(name);
        try {
            segment.unlink();
        } catch (RuntimeException e) {
            // the pool removed it already (it is closing): the mapping still works
        }
        return new WorkerRings(segment);
    }

    /** @return the segment's name, for SETUP */
    public String name() {
        return segment.name();
    }

    /** @return pool → worker */
    public ShmRing requests() {
        return requests;
    }

    /** @return worker → pool */
    public ShmRing results() {
        return results;
    }

    /** Unmaps; in the pool, also removes the file if the worker never did. Idempotent. */
    @Override
    public void close() {
        segment.close();
    }
}
