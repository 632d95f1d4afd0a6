package io.multiproc4j.internal.ipc;

import io.multiproc4j.internal.shm.Segment;
import io.multiproc4j.internal.shm.SegmentLayout;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Messages too large for a ring travel in a file of their own: {@code /dev/shm/mp4j-RING.sN-R},
 * a {@link SegmentLayout} header (kind {@link RingLayout#KIND_SPILL}) followed by the message.
 * The ring then holds only a small record naming the file.
 *
 * <pre>
 *  producer: write file (header names the RING's creator as owner) ─► put reference record
 *  consumer: take reference record ─► read file ─► delete file
 * </pre>
 *
 * <h2>Crash handling</h2>
 * The header's owner is the ring's creator, not the writer: a producer may exit while its message
 * is still queued, and {@code Segment.removeLeftovers()} (run by every JVM's first segment) must not
 * delete the file then. It deletes it once the ring's creator is dead, when the ring is unusable
 * anyway. A producer killed between writing the file and putting the reference, or a consumer
 * killed between taking it and deleting the file, leaves the file until then.
 *
 * <p>Files are written and read with plain {@link FileChannel} calls, not mapped: the message has to
 * be a Java {@code byte[]} on both sides anyway (encoder output, decoder input).
 */
public final class SpillFiles {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final AtomicLong COUNTER = new AtomicLong();

    private SpillFiles() {}

    /**
     * @param ringName   the ring's segment name (prefix of the file name)
     * @param ownerPid   the ring creator's pid
     * @param ownerStart the ring creator's start ticks
     * @param data       the message
     * @param offset     where it starts in {@code data}
     * @param length     its length
     * @return the file's name, relative to {@link Segment#DIRECTORY}
     */
    public static String write(String ringName, long ownerPid, long ownerStart, byte[] data, int offset, int length) {
        String name = SegmentLayout.FILE_PREFIX + ringName + ".s" + COUNTER.incrementAndGet() + "-"
                + Long.toHexString(RANDOM.nextLong());
        Path path = Segment.DIRECTORY.resolve(name);
        ByteBuffer header = ByteBuffer.allocate((int) SegmentLayout.DATA_OFFSET).order(ByteOrder.LITTLE_ENDIAN);
        header.putLong((int) SegmentLayout.MAGIC_OFFSET, SegmentLayout.MAGIC);
        header.putInt((int) SegmentLayout.VERSION_OFFSET, SegmentLayout.VERSION);
        header.putInt((int) SegmentLayout.KIND_OFFSET, RingLayout.KIND_SPILL);
        header.putLong((int) SegmentLayout.OWNER_PID_OFFSET, ownerPid);
        header.putLong((int) SegmentLayout.OWNER_START_OFFSET, ownerStart);
        header.putLong((int) SegmentLayout.DATA_SIZE_OFFSET, length);
        header.putLong((int) SegmentLayout.NONCE_OFFSET, RANDOM.nextLong());
        header.putLong((int) SegmentLayout.CREATED_MILLIS_OFFSET, System.currentTimeMillis());
        try (FileChannel out = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer[] parts = {header, ByteBuffer.wrap(data, offset, length)};
            while (parts[1].hasRemaining()) {
                out.write(parts);
            }
            return name;
        } catch (IOException e) {
            deleteQuietly(name);
            throw new UncheckedIOException("cannot write a " + length + "-byte message to spill file " + path
                    + " (is /dev/shm full? `df -h /dev/shm`)", e);
        }
    }

    /**
     * @param name   a name {@link #write} returned
     * @param length the message length
     * @return the message
     */
    public static byte[] read(String name, int length) {
        Path path = Segment.DIRECTORY.resolve(name);
        byte[] data = new byte[length];
        ByteBuffer buffer = ByteBuffer.wrap(data);
        try (FileChannel in = FileChannel.open(path, StandardOpenOption.READ)) {
            long position = SegmentLayout.DATA_OFFSET;
            while (buffer.hasRemaining()) {
                int n = in.read(buffer, position);
                if (n < 0) {
                    throw new IOException("spill file " + path + " ends after " + buffer.position() + " of "
                            + length + " bytes");
                }
                position += n;
            }
            return data;
        } catch (NoSuchFileException e) {
            throw new UncheckedIOException("the spill file of a queued " + length + "-byte message is gone (" + path
                    + "): it was removed by leftover cleanup after the ring's creator died", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read spill file " + path + ": " + e, e);
        }
    }

    /** @param name a name {@link #write} returned; a missing file is ignored */
    public static void deleteQuietly(String name) {
        try {
            Files.deleteIfExists(Segment.DIRECTORY.resolve(name));
        } catch (IOException e) {
            // racy, but benign: leftover cleanup removes it once the ring's creator is gone
        }
    }
}
