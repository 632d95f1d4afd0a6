package io.multiproc4j.internal.transport;

import io.multiproc4j.internal.shm.ProcessIdentity;
import io.multiproc4j.internal.shm.Segment;
import io.multiproc4j.internal.shm.SegmentLayout;
import java.io.Closeable;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The shared-memory segment of one worker's data path: a request ring (pool → worker: BATCH,
 * SHUTDOWN) and a result ring (worker → pool: READY, INIT_FAILED, RESULTS, FAILED, RETIRING), each
 * a {@link ShmRing}. The socket stays the lifeline (either side's death is its EOF), carries the
 * handshake, SETUP (which names this segment), RECALL and RECALLED.
 *
 * <pre>
 *  pool: create segment + mkfifo bell (at connect) ─► SETUP names it ─► worker: attach both ─► unlink both
 *  pool: close (after its reader delivered the last record) ─► unlinks too if the worker never did
 * </pre>
 *
 * <h2>Bells (how a sleeping side is woken, {@link ShmRing.Bell})</h2>
 * No futex: the FFM downcall a futex needs costs a fresh JVM 100–150 ms of CPU to link (the AOT
 * cache does not keep it), which doubled a new pool's time to its first result. Instead:
 * <pre>
 *  worker's main thread asleep (no batch, or no room for a result) ◄── one byte into the worker's FIFO
 *        rung by any pool thread that commits a batch or frees room: a java.io write, which an
 *        interrupt cannot close (a caller's thread may ring it); the worker's lifeline rings it too
 *  pool's reader asleep (no result) ◄── a DOORBELL frame on the socket, written by the worker's main
 *        thread; the reader sleeps in the socket's read, so RECALLED and EOF wake it as well
 *  pool's sender waiting for room in the request ring ── no bell: it polls (parks up to 1 ms)
 * </pre>
 * The FIFO ({@code /dev/shm/mp4jbell-} + the segment's name) is opened read-write by both sides,
 * so neither open blocks and a write never fails for want of a reader; the flags in the rings
 * bound what is unread to a byte per sleep, far below a pipe's buffer, so a write never blocks.
 *
 * <h2>Crash handling</h2>
 * The files live from the pool's create to the worker's attach, a few milliseconds; the pool's close
 * removes them if the worker never attached (it died starting). A pool JVM killed inside that window
 * leaves the segment with a dead owner in its header, which the next segment created by any JVM of
 * this library removes ({@link Segment#removeLeftovers()}), and a FIFO whose name holds a dead pid,
 * which the next pool JVM that makes rings removes. Names start with {@link #prefix()} (the pool's
 * pid), so a test finds its own.
 *
 * <p>{@code -Dmultiproc4j.transport=ring} turns the rings on (the default is everything over the
 * socket, see {@link #PROPERTY}); any failure to create the segment or the FIFO falls back to the
 * socket (logged once per pool JVM).
 */
public final class WorkerRings implements Closeable {
    /**
     * The system property that chooses the data path: {@code socket} (default) or {@code ring}. Not the
     * ring by default: on 2 cores it halves the warm round trip and doubles tiny tasks, and with its
     * bells a FIFO and the socket (no futex, no FFM downcall) a worker no longer pays 100+ ms to link
     * one, but mapping the segment and the first VarHandle accesses still cost a fresh worker 55-100
     * ms more CPU to its first result than the socket (docs/bench-notes/ring5.md has the runs).
     */
    public static final String PROPERTY = "multiproc4j.transport";
    /** The default of {@value #PROPERTY}. */
    public static final String DEFAULT = "socket";
    /** The name prefix of a worker's bell FIFO in {@link Segment#DIRECTORY}. */
    public static final String BELL_PREFIX = "mp4jbell-";
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
    private static volatile boolean leftoversRemoved;
    private static final byte[] ONE = {1};

    private final Segment segment;
    private final Path bellPath;
    /** The worker's FIFO: the pool writes it, the worker reads it (and its lifeline writes it). */
    private final RandomAccessFile bell;
    private final byte[] drained = new byte[64];
    private final ShmRing requests;
    private final ShmRing results;

    /**
     * @param workerBell the socket doorbell a worker rings for the pool's reader; null in the pool
     */
    private WorkerRings(Segment segment, Path bellPath, RandomAccessFile bell, ShmRing.Bell workerBell) {
        this.segment = segment;
        this.bellPath = bellPath;
        this.bell = bell;
        if (workerBell == null) { // the pool: both peers are the worker's main thread, asleep on the FIFO
            this.requests = new ShmRing(segment.data(), 0, RING_BYTES, this::ringWorker);
            this.results = new ShmRing(segment.data(), ShmRing.sizeOf(RING_BYTES), RING_BYTES, this::ringWorker);
        } else { // the worker: the pool's sender polls for room; its reader sleeps on the socket
            this.requests = new ShmRing(segment.data(), 0, RING_BYTES, null);
            this.results = new ShmRing(segment.data(), ShmRing.sizeOf(RING_BYTES), RING_BYTES, workerBell);
        }
    }

    private static Path bellPath(String segmentName) {
        return Segment.DIRECTORY.resolve(BELL_PREFIX + segmentName);
    }

    /** @return whether new workers get rings ({@value #PROPERTY} is {@code ring}) */
    public static boolean enabled() {
        String value = System.getProperty(PROPERTY, DEFAULT);
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
        Segment segment = null;
        Path fifo = null;
        try {
            removeLeftoverBells();
            String name = prefix() + workerName.replaceAll("[^A-Za-z0-9._-]", "_") + "-" + COUNT.incrementAndGet();
            segment = Segment.create(name, 2 * ShmRing.sizeOf(RING_BYTES), SegmentLayout.KIND_RAW);
            fifo = bellPath(segment.name());
            makeFifo(fifo);
            return new WorkerRings(segment, fifo, new RandomAccessFile(fifo.toFile(), "rw"), null);
        } catch (RuntimeException | LinkageError | IOException e) {
            if (segment != null) {
                segment.close();
            }
            if (fifo != null) {
                deleteQuietly(fifo);
            }
            if (!warned) {
                warned = true;
                System.getLogger(WorkerRings.class.getName()).log(System.Logger.Level.WARNING,
                        "worker rings in shared memory are not available (" + e + "); workers use their socket alone");
            }
            return null;
        }
    }

    /** Java cannot make a FIFO; coreutils' mkfifo can (about a millisecond, once per worker). */
    private static void makeFifo(Path fifo) throws IOException {
        Process mkfifo = new ProcessBuilder("mkfifo", "-m", "600", fifo.toString())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(true).start();
        try {
            if (!mkfifo.waitFor(30, TimeUnit.SECONDS) || mkfifo.exitValue() != 0 || !Files.exists(fifo)) {
                mkfifo.destroyForcibly();
                throw new IOException("mkfifo " + fifo + " failed");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            mkfifo.destroyForcibly();
            throw new IOException("interrupted making " + fifo, e);
        }
    }

    /** Once per JVM: removes bell FIFOs left by pool JVMs that died before their worker attached. */
    private static void removeLeftoverBells() {
        if (leftoversRemoved) {
            return;
        }
        leftoversRemoved = true;
        // never opened (a FIFO's open may block): judged by the pool pid in the name alone
        try (DirectoryStream<Path> files = Files.newDirectoryStream(Segment.DIRECTORY, BELL_PREFIX + "pool-*")) {
            for (Path file : files) {
                String[] parts = file.getFileName().toString().substring(BELL_PREFIX.length()).split("-");
                try {
                    long pid = Long.parseLong(parts[1]);
                    if (ProcessHandle.of(pid).isEmpty()) {
                        deleteQuietly(file);
                    }
                } catch (RuntimeException e) {
                    // not one of ours
                }
            }
        } catch (IOException | RuntimeException e) {
            // another JVM cleaning at the same time; the next JVM tries again
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // gone, or not ours to delete
        }
    }

    /**
     * Maps a worker's rings, in the worker, opens its bell, and unlinks both files: both processes
     * have them open now.
     *
     * @param name       the name SETUP gave
     * @param poolBell   rings the pool's reader (a DOORBELL frame on the socket)
     * @return the rings
     * @throws IOException when the bell cannot be opened
     */
    public static WorkerRings attach(String name, ShmRing.Bell poolBell) throws IOException {
        Segment segment = Segment.attach(name);
        Path fifo = bellPath(name);
        RandomAccessFile bell;
        try {
            bell = new RandomAccessFile(fifo.toFile(), "rw");
        } catch (IOException e) {
            segment.close();
            throw e;
        }
        try {
            segment.unlink();
        } catch (RuntimeException e) {
            // the pool removed it already (it is closing): the mapping still works
        }
        deleteQuietly(fifo);
        return new WorkerRings(segment, fifo, bell, poolBell);
    }

    /** Rings the worker's FIFO bell: one byte, a java.io write (no interrupt can close it). */
    private void ringWorker() throws IOException {
        bell.write(ONE);
    }

    /**
     * In the worker: wakes its own main thread (the lifeline, after moving records aside).
     *
     * @throws IOException when the FIFO fails
     */
    public void ringOwnBell() throws IOException {
        ringWorker();
    }

    /**
     * In the worker's main thread: sleeps until a byte is in the FIFO, and takes every byte there
     * (bells of sleeps that ended on their own would each wake a later sleep for nothing).
     *
     * @throws IOException when the FIFO fails
     */
    public void sleepOnBell() throws IOException {
        if (bell.read(drained) < 0) {
            throw new IOException("the bell FIFO ended");
        }
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

    /** Unmaps, closes the bell; in the pool, also removes the files if the worker never did. Idempotent. */
    @Override
    public void close() {
        segment.close();
        try {
            bell.close();
        } catch (IOException e) {
            // closed already
        }
        deleteQuietly(bellPath);
    }
}
