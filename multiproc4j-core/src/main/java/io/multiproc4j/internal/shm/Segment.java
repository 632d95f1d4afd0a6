package io.multiproc4j.internal.shm;

import static io.multiproc4j.internal.shm.SegmentLayout.*;

import io.multiproc4j.shared.SharedMemoryException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.ref.WeakReference;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * One named shared-memory segment: a file {@code /dev/shm/mp4j-NAME} mapped {@code MAP_SHARED}
 * into this process with {@link FileChannel#map(FileChannel.MapMode, long, long, Arena)} and a
 * shared {@link Arena}, starting with the header of {@link SegmentLayout}.
 *
 * <pre>
 *  create(name) ──► open(CREATE_NEW) ─► truncate ─► map ─► write header ─► magic (release)
 *  attach(name) ──► open ─► read header (wait for magic) ─► map
 *  close()      ──► [owner: unlink] ─► arena.close() (unmaps)
 * </pre>
 *
 * <h2>States</h2>
 * OPEN → CLOSED (by {@link #close()}); independently, LINKED → UNLINKED (by {@link #unlink()} or by
 * the owner's close). A second {@code unlink()} or any use after close is an
 * {@link IllegalStateException} that names the segment.
 *
 * <h2>Concurrency</h2>
 * Creation is exclusive through {@code CREATE_NEW}: of two processes creating one name, one gets
 * "already exists". Attachers wait (briefly) for the magic, written last with release semantics.
 * Closing unmaps through the shared arena, which makes concurrent accessors in this JVM fail with
 * {@code IllegalStateException} instead of touching unmapped memory.
 *
 * <h2>Crash handling</h2>
 * The header names the owner (pid + start time). {@link #removeLeftovers()} deletes every segment
 * of ours whose owner is dead, and files that never got a magic and are older than
 * {@link #UNINITIALISED_GRACE_MILLIS}; it runs on this JVM's first create. Unlinking a name never
 * disturbs processes that still map it: the memory lives until the last mapping goes.
 *
 * <h2>Attach cache</h2>
 * Deserialized handles call {@link #attachCached}: one mapping per (name, nonce) per JVM, shared by
 * every handle of it, so a worker that runs many tasks capturing the same handle maps it once. The
 * cache holds it weakly and the mapping belongs to an automatic arena: once no handle of it is
 * reachable (tasks done, their functions dropped), the GC unmaps it, so a long-lived worker does
 * not collect the mappings of every segment it ever saw. Such mappings are never unmapped
 * explicitly, because another task of the worker may still use them.
 */
public final class Segment {
    /** Where segments live. */
    public static final Path DIRECTORY = Path.of("/dev/shm");
    /** How old an uninitialised file must be before cleanup may treat it as a dead creator's. */
    public static final long UNINITIALISED_GRACE_MILLIS = 10_000;

    private static final Pattern VALID_NAME = Pattern.compile("[A-Za-z0-9._-]{1,200}");
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final AtomicLong GENERATED = new AtomicLong();
    private static final AtomicBoolean CLEANED = new AtomicBoolean();
    private static final ConcurrentHashMap<String, WeakReference<Segment>> CACHE = new ConcurrentHashMap<>();
    private static final ConcurrentHashMap<String, Segment> OWNED = new ConcurrentHashMap<>();

    private final String name;
    private final Path path;
    private final long nonce;
    private final int kind;
    private final long dataSize;
    private final boolean owner;
    private final Arena arena;
    private final boolean autoArena;
    private final MemorySegment data;
    private final AtomicBoolean unlinked = new AtomicBoolean();
    private volatile boolean closed;

    private Segment(String name, Path path, long nonce, int kind, long dataSize, boolean owner, Arena arena,
                    boolean autoArena, MemorySegment whole) {
        this.name = name;
        this.path = path;
        this.nonce = nonce;
        this.kind = kind;
        this.dataSize = dataSize;
        this.owner = owner;
        this.arena = arena;
        this.autoArena = autoArena;
        this.data = whole.asSlice(DATA_OFFSET, dataSize);
    }

    /**
     * Creates a new segment, zero-filled.
     *
     * @param name     the name (letters, digits, {@code . _ -}), or null for a generated one
     * @param dataSize bytes of data, {@code > 0}
     * @param kind     what it holds ({@code SegmentLayout.KIND_*})
     * @return the segment, owned by this process
     * @throws IllegalArgumentException on a bad name or size
     * @throws SharedMemoryException when the name exists or the file cannot be created
     */
    public static Segment create(String name, long dataSize, int kind) {
        Futex.ensureSupported();
        if (dataSize <= 0) {
            throw new IllegalArgumentException("shared memory size must be > 0, was " + dataSize);
        }
        if (CLEANED.compareAndSet(false, true)) {
            removeLeftovers();
        }
        String actual = name != null ? checkName(name) : generatedName();
        Path path = pathOf(actual);
        long nonce = RANDOM.nextLong();
        long fileSize = DATA_OFFSET + dataSize;
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            channel.truncate(fileSize);
            // A truncate to a larger size does not grow a file: write the last byte to extend it.
            channel.write(ByteBuffer.allocate(1), fileSize - 1);
            MemorySegment whole = channel.map(FileChannel.MapMode.READ_WRITE, 0, fileSize, arena);
            whole.set(ValueLayout.JAVA_INT, VERSION_OFFSET, VERSION);
            whole.set(ValueLayout.JAVA_INT, KIND_OFFSET, kind);
            whole.set(ValueLayout.JAVA_LONG, OWNER_PID_OFFSET, ProcessIdentity.PID);
            whole.set(ValueLayout.JAVA_LONG, OWNER_START_OFFSET, ProcessIdentity.START_TIME);
            whole.set(ValueLayout.JAVA_LONG, DATA_SIZE_OFFSET, dataSize);
            whole.set(ValueLayout.JAVA_LONG, NONCE_OFFSET, nonce);
            whole.set(ValueLayout.JAVA_LONG, CREATED_MILLIS_OFFSET, System.currentTimeMillis());
            LONG.setRelease(whole, MAGIC_OFFSET, MAGIC);
            Segment segment = new Segment(actual, path, nonce, kind, dataSize, true, arena, false, whole);
            OWNED.put(actual, segment);
            return segment;
        } catch (FileAlreadyExistsException e) {
            arena.close();
            throw new SharedMemoryException("shared memory '" + actual + "' already exists (" + path
                    + "); attach to it with attach(\"" + actual + "\"), or pick another name", e);
        } catch (IOException | RuntimeException e) {
            arena.close();
            deleteQuietly(path);
            throw new SharedMemoryException("cannot create shared memory '" + actual + "' of " + dataSize
                    + " bytes at " + path + ": " + e, e);
        }
    }

    /**
     * Maps an existing segment.
     *
     * @param name the name given to {@link #create}
     * @return a new mapping, not the owner
     * @throws SharedMemoryException when there is no such segment or it is not one of ours
     */
    public static Segment attach(String name) {
        return attach(name, false);
    }

    /** @param auto map into an automatic arena (unmapped by the GC) instead of a closeable shared one */
    private static Segment attach(String name, boolean auto) {
        Futex.ensureSupported();
        String actual = checkName(name);
        Path path = pathOf(actual);
        Arena arena = auto ? Arena.ofAuto() : Arena.ofShared();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long fileSize = channel.size();
            if (fileSize < DATA_OFFSET) {
                fileSize = waitForHeader(channel, actual);
            }
            MemorySegment whole = channel.map(FileChannel.MapMode.READ_WRITE, 0, fileSize, arena);
            long deadline = System.nanoTime() + 1_000_000_000L;
            while ((long) LONG.getAcquire(whole, MAGIC_OFFSET) != MAGIC) {
                if (System.nanoTime() > deadline) {
                    throw new SharedMemoryException(path + " is not a multiproc4j shared memory segment (no magic "
                            + "after 1 s); remove it or pick another name");
                }
                Thread.onSpinWait();
            }
            int version = whole.get(ValueLayout.JAVA_INT, VERSION_OFFSET);
            if (version != VERSION) {
                throw new SharedMemoryException("shared memory '" + actual + "' has layout version " + version
                        + ", this library reads version " + VERSION);
            }
            long dataSize = whole.get(ValueLayout.JAVA_LONG, DATA_SIZE_OFFSET);
            return new Segment(actual, path, whole.get(ValueLayout.JAVA_LONG, NONCE_OFFSET),
                    whole.get(ValueLayout.JAVA_INT, KIND_OFFSET), dataSize, false, arena, auto, whole);
        } catch (NoSuchFileException e) {
            closeArena(arena, auto);
            throw new SharedMemoryException("no shared memory named '" + actual + "' (" + path
                    + " does not exist): create it first, or check that its owner has not closed it", e);
        } catch (IOException e) {
            closeArena(arena, auto);
            throw new SharedMemoryException("cannot attach shared memory '" + actual + "': " + e, e);
        } catch (RuntimeException e) {
            closeArena(arena, auto);
            throw e;
        }
    }

    private static long waitForHeader(FileChannel channel, String name) throws IOException {
        long deadline = System.nanoTime() + 1_000_000_000L;
        long size;
        while ((size = channel.size()) < DATA_OFFSET) {
            if (System.nanoTime() > deadline) {
                throw new SharedMemoryException("'" + name + "' is not a multiproc4j shared memory segment ("
                        + size + " bytes, no header)");
            }
            Thread.onSpinWait();
        }
        return size;
    }

    /**
     * The segment a deserialized handle names: this process's own segment when it created it, else a
     * mapping shared by every handle of this JVM, unmapped by the GC once none is reachable.
     *
     * @param name  the segment name
     * @param nonce the creation nonce the handle carries
     * @return an open mapping of that very segment
     * @throws SharedMemoryException when the segment is gone or was re-created under the same name
     */
    public static Segment attachCached(String name, long nonce) {
        Segment own = OWNED.get(name);
        if (own != null && own.nonce == nonce && !own.closed) {
            return own;
        }
        Segment[] result = new Segment[1];
        CACHE.compute(name, (n, ref) -> {
            Segment old = ref == null ? null : ref.get();
            if (old != null && old.nonce == nonce) {
                result[0] = old;
                return ref;
            }
            // Not closing a cached segment of another nonce: handles of it may still be running.
            result[0] = attach(n, true);
            return new WeakReference<>(result[0]);
        });
        if (result[0].nonce != nonce) {
            throw new SharedMemoryException("shared memory '" + name + "' was closed by its owner and created again; "
                    + "this handle refers to the old segment");
        }
        return result[0];
    }

    private static void closeArena(Arena arena, boolean auto) {
        if (!auto) {
            arena.close();
        }
    }

    /** @return the data region (after the header); throws when closed */
    public MemorySegment data() {
        if (closed) {
            throw closedError();
        }
        return data;
    }

    /** @return an exception saying this segment was used after close */
    public IllegalStateException closedError() {
        return new IllegalStateException("shared memory '" + name + "' is closed; it cannot be used after close()");
    }

    /** @return the name */
    public String name() {
        return name;
    }

    /** @return the random creation id */
    public long nonce() {
        return nonce;
    }

    /** @return the kind written at creation */
    public int kind() {
        return kind;
    }

    /** @return bytes of data */
    public long dataSize() {
        return dataSize;
    }

    /** @return whether this process created it */
    public boolean isOwner() {
        return owner;
    }

    /** @return whether {@link #close()} was called */
    public boolean isClosed() {
        return closed;
    }

    /** @return the file backing it */
    public Path path() {
        return path;
    }

    /**
     * Removes the name; mappings (here and elsewhere) stay valid until closed.
     *
     * @throws IllegalStateException when already unlinked through this handle or when the file is gone
     */
    public void unlink() {
        if (!unlinked.compareAndSet(false, true)) {
            throw new IllegalStateException("shared memory '" + name + "' was already unlinked");
        }
        try {
            Files.delete(path);
        } catch (NoSuchFileException e) {
            throw new IllegalStateException("shared memory '" + name + "' was already unlinked (" + path
                    + " is gone)", e);
        } catch (IOException e) {
            throw new SharedMemoryException("cannot unlink shared memory '" + name + "': " + e, e);
        }
    }

    /** Unmaps; the owner also unlinks (unless already unlinked). Idempotent. */
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (owner) {
            OWNED.remove(name, this);
            if (unlinked.compareAndSet(false, true)) {
                deleteOwnFile();
            }
        }
        closeArena(arena, autoArena);
    }

    /** Deletes the file only while it is still ours (same nonce): the name may have been re-created. */
    private void deleteOwnFile() {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            ByteBuffer header = ByteBuffer.allocate((int) DATA_OFFSET).order(ByteOrder.LITTLE_ENDIAN);
            channel.read(header, 0);
            if (header.getLong((int) NONCE_OFFSET) != nonce) {
                return;
            }
        } catch (IOException e) {
            return;
        }
        deleteQuietly(path);
    }

    /**
     * Removes every multiproc4j segment in {@link #DIRECTORY} whose owner process is dead.
     *
     * @return the names removed
     */
    public static List<String> removeLeftovers() {
        List<String> removed = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(DIRECTORY, FILE_PREFIX + "*")) {
            for (Path file : files) {
                if (isLeftover(file)) {
                    deleteQuietly(file);
                    removed.add(file.getFileName().toString().substring(FILE_PREFIX.length()));
                }
            }
        } catch (IOException e) {
            // racy, but benign: another process cleaning at the same time; the next start tries again
        }
        return removed;
    }

    private static boolean isLeftover(Path file) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer header = ByteBuffer.allocate((int) DATA_OFFSET).order(ByteOrder.LITTLE_ENDIAN);
            int read = channel.read(header, 0);
            if (read < DATA_OFFSET || header.getLong((int) MAGIC_OFFSET) != MAGIC) {
                long age = System.currentTimeMillis() - Files.getLastModifiedTime(file).toMillis();
                return age > UNINITIALISED_GRACE_MILLIS;
            }
            return !ProcessIdentity.isAlive(header.getLong((int) OWNER_PID_OFFSET),
                    header.getLong((int) OWNER_START_OFFSET));
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Reads the header of every multiproc4j segment in {@link #DIRECTORY}.
     *
     * @return one entry per readable segment
     */
    public static List<Header> listAll() {
        List<Header> headers = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(DIRECTORY, FILE_PREFIX + "*")) {
            for (Path file : files) {
                try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                    ByteBuffer header = ByteBuffer.allocate((int) DATA_OFFSET).order(ByteOrder.LITTLE_ENDIAN);
                    if (channel.read(header, 0) == DATA_OFFSET && header.getLong(0) == MAGIC) {
                        headers.add(new Header(file.getFileName().toString().substring(FILE_PREFIX.length()),
                                header.getInt((int) KIND_OFFSET), header.getLong((int) OWNER_PID_OFFSET),
                                header.getLong((int) OWNER_START_OFFSET), header.getLong((int) DATA_SIZE_OFFSET)));
                    }
                } catch (IOException e) {
                    // racy, but benign: the file was removed while we listed
                }
            }
        } catch (IOException e) {
            return headers;
        }
        return headers;
    }

    /**
     * A segment's header as read from its file.
     *
     * @param name       the segment name
     * @param kind       what it holds
     * @param ownerPid   the creator's pid
     * @param ownerStart the creator's start time
     * @param dataSize   bytes of data
     */
    public record Header(String name, int kind, long ownerPid, long ownerStart, long dataSize) {}

    /**
     * @param name a segment name
     * @return its file
     */
    public static Path pathOf(String name) {
        return DIRECTORY.resolve(FILE_PREFIX + name);
    }

    private static String checkName(String name) {
        if (name == null || !VALID_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("bad shared memory name '" + name
                    + "': use 1 to 200 letters, digits, '.', '_' or '-'");
        }
        return name;
    }

    private static String generatedName() {
        return "p" + ProcessIdentity.PID + "-" + GENERATED.incrementAndGet() + "-"
                + Long.toHexString(RANDOM.nextLong() & 0xFFFF_FFFFL);
    }

    private static void deleteQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // racy, but benign: someone else removed it first
        }
    }
}
