package io.multiproc4j.ipc;

import io.multiproc4j.internal.ipc.RingLayout;
import io.multiproc4j.internal.shm.RobustMutex;
import io.multiproc4j.internal.shm.Segment;
import java.io.ByteArrayInputStream;
import java.io.ObjectInputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Base64;

/**
 * The main of helper JVMs started by ipc tests ({@link IpcChildJvm}). Modes:
 * <ul>
 *   <li>{@code consume NAME LOG}: takes from queue NAME forever, appending {@code n} to the file LOG
 *       after each take (one {@code write} call each, so a SIGKILL loses no line the kernel took)
 *       and printing {@code TOOK n} every 1,000 takes.</li>
 *   <li>{@code produce-forever NAME SPILL}: puts 0, 1, 2, ... into queue NAME forever (every 8th
 *       with a SPILL-byte array beside it), after printing {@code STARTED}.</li>
 *   <li>{@code lock-and-hang NAME}: takes the queue's ring lock and writes half a record past the
 *       tail (a put caught mid-copy), prints {@code LOCKED}, waits to be killed.</li>
 *   <li>{@code joinable-commit-and-hang NAME}: does what a joinable put does up to its commit, and
 *       no further: takes the ring lock, writes a record of the bytes {@code [1, 2, 3]}, records
 *       the put's intent, stores the tail (the commit), prints {@code COMMITTED} and waits to be
 *       killed, as a producer killed between its commit and its count would have left the queue.</li>
 *   <li>{@code take-commit-and-hang NAME}: does what a take does up to its commit (the head store),
 *       not the count store after it, prints {@code COMMITTED}, waits to be killed.</li>
 *   <li>{@code produce-and-exit NAME N}: puts 0..N-1 into queue NAME, prints {@code PUT}, exits.</li>
 *   <li>{@code hold-end BASE64}: deserializes a pipe end, prints {@code HOLDING}, waits to be killed.</li>
 * </ul>
 */
public final class IpcChild {
    private IpcChild() {}

    /**
     * @param args the mode and its arguments
     * @throws Exception on failure (the test sees the output)
     */
    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "consume" -> {
                ProcessQueue<Integer> queue = ProcessQueue.attach(args[1]);
                System.out.println("STARTED");
                System.out.flush();
                try (FileChannel log = FileChannel.open(Path.of(args[2]), StandardOpenOption.WRITE,
                        StandardOpenOption.APPEND)) {
                    for (int takes = 1; ; takes++) {
                        Integer taken = queue.take();
                        ByteBuffer line = ByteBuffer.wrap((taken + "\n").getBytes(StandardCharsets.US_ASCII));
                        while (line.hasRemaining()) {
                            log.write(line);
                        }
                        if (takes % 1000 == 0) {
                            System.out.println("TOOK " + takes);
                            System.out.flush();
                        }
                    }
                }
            }
            case "produce-forever" -> {
                ProcessQueue<Object> queue = ProcessQueue.attach(args[1]);
                System.out.println("STARTED");
                System.out.flush();
                byte[] spilled = new byte[Integer.parseInt(args[2])];
                for (int i = 0; ; i++) {
                    // Every 8th item is large enough for a spill file: kills land in both kinds of put.
                    queue.put(i % 8 == 7 ? new Object[] {i, spilled} : i);
                }
            }
            case "lock-and-hang" -> {
                Segment segment = Segment.attach(args[1]);
                MemorySegment memory = segment.data();
                RobustMutex lock = new RobustMutex(memory, RingLayout.LOCK_OFFSET, false, "test");
                lock.acquire(-1, false);
                long tail = memory.get(ValueLayout.JAVA_LONG, RingLayout.TAIL_OFFSET);
                long ringBytes = memory.get(ValueLayout.JAVA_LONG, RingLayout.RING_BYTES_OFFSET);
                long at = RingLayout.DATA_OFFSET + (tail & (ringBytes - 1));
                memory.set(ValueLayout.JAVA_INT, at, 1_000);          // a length...
                memory.set(ValueLayout.JAVA_INT, at + 4, RingLayout.TYPE_OBJECT);
                memory.set(ValueLayout.JAVA_BYTE, at + 8, (byte) 0x7f); // ...and a few bytes of payload
                System.out.println("LOCKED");
                System.out.flush();
                System.in.read();
            }
            case "joinable-commit-and-hang" -> {
                Segment segment = Segment.attach(args[1]);
                MemorySegment memory = segment.data();
                RobustMutex lock = new RobustMutex(memory, RingLayout.LOCK_OFFSET, false, "test");
                lock.acquire(-1, false);
                long tail = memory.get(ValueLayout.JAVA_LONG, RingLayout.TAIL_OFFSET);
                long ringBytes = memory.get(ValueLayout.JAVA_LONG, RingLayout.RING_BYTES_OFFSET);
                long at = RingLayout.DATA_OFFSET + (tail & (ringBytes - 1));
                memory.set(ValueLayout.JAVA_INT, at, 3);
                memory.set(ValueLayout.JAVA_INT, at + 4, RingLayout.TYPE_BYTES);
                for (int i = 0; i < 3; i++) {
                    memory.set(ValueLayout.JAVA_BYTE, at + 8 + i, (byte) (i + 1));
                }
                long newTail = tail + RingLayout.recordSize(3);
                int puts = memory.get(ValueLayout.JAVA_INT, RingLayout.PUTS_OFFSET);
                memory.set(ValueLayout.JAVA_INT, RingLayout.PENDING_PUTS_OFFSET, puts + 1);
                memory.set(ValueLayout.JAVA_LONG, RingLayout.PENDING_TAIL_OFFSET, newTail);
                memory.set(ValueLayout.JAVA_LONG, RingLayout.TAIL_OFFSET, newTail); // the commit
                System.out.println("COMMITTED");
                System.out.flush();
                System.in.read();
            }
            case "take-commit-and-hang" -> {
                Segment segment = Segment.attach(args[1]);
                MemorySegment memory = segment.data();
                RobustMutex lock = new RobustMutex(memory, RingLayout.LOCK_OFFSET, false, "test");
                lock.acquire(-1, false);
                long head = memory.get(ValueLayout.JAVA_LONG, RingLayout.HEAD_OFFSET);
                long ringBytes = memory.get(ValueLayout.JAVA_LONG, RingLayout.RING_BYTES_OFFSET);
                int length = memory.get(ValueLayout.JAVA_INT, RingLayout.DATA_OFFSET + (head & (ringBytes - 1)));
                memory.set(ValueLayout.JAVA_LONG, RingLayout.HEAD_OFFSET, head + RingLayout.recordSize(length)); // the commit
                System.out.println("COMMITTED");
                System.out.flush();
                System.in.read();
            }
            case "produce-and-exit" -> {
                ProcessQueue<Integer> queue = ProcessQueue.attach(args[1]);
                for (int i = 0; i < Integer.parseInt(args[2]); i++) {
                    queue.put(i);
                }
                System.out.println("PUT");
                System.out.flush();
            }
            case "hold-end" -> {
                try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(
                        Base64.getDecoder().decode(args[1])))) {
                    Connection<?> end = (Connection<?>) in.readObject();
                    System.out.println("HOLDING " + end);
                    System.out.flush();
                }
                System.in.read();
            }
            default -> throw new IllegalArgumentException("unknown mode " + args[0]);
        }
    }
}
