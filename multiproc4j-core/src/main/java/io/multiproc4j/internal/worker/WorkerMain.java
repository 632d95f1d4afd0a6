package io.multiproc4j.internal.worker;

import io.multiproc4j.SerializableFunction;
import io.multiproc4j.SerializableRunnable;
import io.multiproc4j.internal.codec.RemoteFailure;
import io.multiproc4j.internal.transport.FrameChannel;
import io.multiproc4j.internal.transport.FrameChannel.Frame;
import io.multiproc4j.internal.transport.FrameChannel.PayloadWriter;
import io.multiproc4j.internal.transport.FrameType;
import io.multiproc4j.spi.Codec;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.NotSerializableException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The main class of a worker JVM.
 *
 * <pre>
 *  connect to $MULTIPROC4J_SOCKET ─► HELLO(key from $MULTIPROC4J_KEY, pid) ─► SETUP ─► run initializer
 *      ─► READY ─► loop: BATCH ─► run each input ─► RESULTS / FAILED
 * </pre>
 *
 * <h2>Threads</h2>
 * The lifeline thread reads every frame and queues batches, so the socket never backs up and the
 * parent's death (EOF, whatever killed it, SIGKILL included) is seen at once, even while a task
 * runs: the worker then halts. The main thread runs batches in the order they arrived.
 *
 * <h2>Functions</h2>
 * Decoded functions are kept by id. The parent decides what this cache holds: it sends a
 * function's bytes the first time, and names a function to forget when its own bounded record of
 * this worker's cache evicts one. Frames arrive in the order the parent wrote them, so both sides agree.
 */
public final class WorkerMain {
    /** Environment variable holding the socket path. */
    public static final String ENV_SOCKET = "MULTIPROC4J_SOCKET";
    /** Environment variable holding the one-time key, hex. */
    public static final String ENV_KEY = "MULTIPROC4J_KEY";

    private static final Frame SHUTDOWN = new Frame(FrameType.SHUTDOWN, new byte[0]);

    private final FrameChannel channel;
    private Codec codec;
    private boolean streamResults;
    private long maxResidentBytes;
    private final LinkedBlockingQueue<Frame> inbox = new LinkedBlockingQueue<>();
    private final Map<Long, SerializableFunction<Object, Object>> functions = new HashMap<>();

    private WorkerMain(FrameChannel channel) {
        this.channel = channel;
    }

    /**
     * @param args unused: everything comes through the environment and the socket
     * @throws Exception when the worker cannot connect; the pool sees it exit
     */
    public static void main(String[] args) throws Exception {
        String socket = System.getenv(ENV_SOCKET);
        String key = System.getenv(ENV_KEY);
        if (socket == null || key == null) {
            System.err.println("multiproc4j worker: " + ENV_SOCKET + " and " + ENV_KEY
                    + " must be set; workers are started by a Pool, not by hand");
            System.exit(2);
        }
        SocketChannel sc = SocketChannel.open(StandardProtocolFamily.UNIX);
        sc.connect(UnixDomainSocketAddress.of(socket));
        var channel = new FrameChannel(sc);
        var hello = new PayloadWriter();
        hello.bytes(HexFormat.of().parseHex(key));
        hello.writeLong(ProcessHandle.current().pid());
        channel.send(FrameType.HELLO, hello.toByteArray());
        new WorkerMain(channel).run();
    }

    private void run() throws Exception {
        Frame setup = channel.receive();
        if (setup.type() != FrameType.SETUP) {
            throw new IOException("expected SETUP, got " + setup.type());
        }
        DataInputStream in = setup.reader();
        String codecClass = in.readUTF();
        String name = in.readUTF();
        streamResults = in.readBoolean();
        maxResidentBytes = in.readLong();
        byte[] initializer = FrameChannel.readBytes(in);
        Thread.currentThread().setName(name);
        codec = (Codec) Class.forName(codecClass, true, Thread.currentThread().getContextClassLoader())
                .getConstructor().newInstance();
        startLifeline();
        if (initializer != null) {
            try {
                ((SerializableRunnable) codec.decode(initializer)).run();
            } catch (Throwable t) {
                channel.send(FrameType.INIT_FAILED, RemoteFailure.encode(t, codec));
                System.exit(1);
            }
        }
        channel.send(FrameType.READY, new byte[0]);
        while (true) {
            Frame frame = nextFrame();
            if (frame == SHUTDOWN) {
                channel.flush();
                System.out.flush();
                System.err.flush();
                System.exit(0);
            }
            // Results of earlier batches leave before user code runs again: if it kills this JVM,
            // the pool must see them, or it would blame the wrong batch for the death.
            channel.flush();
            runBatch(frame.reader());
            if (inbox.isEmpty()) {
                channel.flush();
            }
            if (maxResidentBytes > 0 && residentBytes() > maxResidentBytes) {
                // Checked between batches, so nothing queued has started: the pool requeues it all.
                channel.send(FrameType.RETIRING, new byte[0]);
                System.exit(0);
            }
        }
    }

    /**
     * With cores to spare, spins briefly before parking: a batch usually follows a result within
     * microseconds, and a park/unpark costs more. On a machine with few cores the spin would take
     * the core that the pool's own threads need (measured: slower round trips on 2 cores), so none.
     */
    private static final long SPIN_NANOS = Runtime.getRuntime().availableProcessors() >= 4 ? 20_000 : 0;

    private Frame nextFrame() throws InterruptedException {
        long spinUntil = System.nanoTime() + SPIN_NANOS;
        do {
            Frame frame = inbox.poll();
            if (frame != null) {
                return frame;
            }
            Thread.onSpinWait();
        } while (System.nanoTime() < spinUntil);
        return inbox.take();
    }

    /** @return this process's resident set size from /proc, or -1 where the OS does not say */
    static long residentBytes() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.substring(6).trim().split("\\s+")[0]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return -1;
    }

    /** Reads frames for the main thread; EOF means the parent is gone, and so must we be. */
    private void startLifeline() {
        Thread lifeline = new Thread(() -> {
            try {
                while (true) {
                    Frame frame = channel.receive();
                    inbox.put(frame.type() == FrameType.SHUTDOWN ? SHUTDOWN : frame);
                }
            } catch (IOException | InterruptedException | RuntimeException e) {
                // EOF or a broken socket: the parent died or dropped us. Nobody wants our results;
                // halt without shutdown hooks so that a task stuck in user code cannot keep us alive.
                Runtime.getRuntime().halt(0);
            }
        }, "multiproc4j-lifeline");
        lifeline.setDaemon(true);
        lifeline.start();
    }

    @SuppressWarnings("unchecked")
    private void runBatch(DataInputStream in) throws IOException {
        long batchId = in.readLong();
        long functionId = in.readLong();
        byte[] functionBytes = FrameChannel.readBytes(in);
        long forget = in.readLong();
        byte[] inputBytes = FrameChannel.readBytes(in);
        if (forget >= 0) {
            functions.remove(forget);
        }

        SerializableFunction<Object, Object> fn = functions.get(functionId);
        List<Object> inputs;
        try {
            if (fn == null) {
                if (functionBytes == null) {
                    throw new IllegalStateException("function " + functionId + " was neither sent nor cached");
                }
                fn = (SerializableFunction<Object, Object>) codec.decode(functionBytes);
                functions.put(functionId, fn);
            }
            inputs = (List<Object>) io.multiproc4j.internal.codec.StandardCodec.decodeResults(codec, inputBytes); // perf: packed inputs stay packed
        } catch (Throwable t) {
            sendFailure(batchId, 0, new IllegalStateException(
                    "the worker could not decode the task: " + t, t));
            return;
        }

        List<Object> results = new ArrayList<>(inputs.size());
        if (!streamResults) { // perf: a loop per function class, see BatchLoop
            Throwable[] failure = new Throwable[1];
            int stop = BatchLoop.apply(fn, inputs, results, failure);
            int sent = sendResults(batchId, 0, results);
            if (stop < inputs.size() && sent == stop) {
                sendFailure(batchId, stop, failure[0]);
            }
            return;
        }
        int sent = 0;
        for (int i = 0; i < inputs.size(); i++) {
            Object result;
            try {
                result = fn.apply(inputs.get(i));
            } catch (Throwable t) {
                sent += sendResults(batchId, sent, results);
                if (sent == i) {
                    sendFailure(batchId, i, t);
                }
                return;
            }
            results.add(result);
            if (streamResults) {
                sent += sendResults(batchId, sent, results);
                results.clear();
                if (sent <= i) {
                    return;
                }
            }
        }
        sendResults(batchId, sent, results);
    }

    /**
     * Sends results starting at offset; when one does not encode, sends those before it and fails it.
     *
     * @return how many results were sent (fewer than given means the batch has failed)
     */
    private int sendResults(long batchId, int offset, List<Object> results) throws IOException {
        if (results.isEmpty()) {
            return 0;
        }
        byte[] encoded;
        try {
            encoded = codec.encode(results);
        } catch (IOException | RuntimeException whole) {
            int good = 0;
            for (Object result : results) {
                try {
                    codec.encode(result);
                    good++;
                } catch (IOException | RuntimeException one) {
                    int sent = sendResults(batchId, offset, new ArrayList<>(results.subList(0, good)));
                    String type = result == null ? "null" : result.getClass().getName();
                    sendFailure(batchId, offset + sent, new NotSerializableException(
                            "the task's result (a " + type + ") cannot be sent back: " + one
                                    + "; return a Serializable value"));
                    return sent;
                }
            }
            throw new IOException("results failed to encode together but each encoded alone", whole);
        }
        if (encoded.length > FrameChannel.MAX_FRAME - 1024) {
            sendFailure(batchId, offset, new IllegalStateException("the results of " + results.size()
                    + " tasks encode to " + encoded.length + " bytes, above the frame limit of "
                    + FrameChannel.MAX_FRAME + ": return smaller results or use a smaller chunkSize"));
            return 0;
        }
        var w = new PayloadWriter();
        w.writeLong(batchId);
        w.writeInt(offset);
        w.bytes(encoded);
        if (streamResults) {
            channel.send(FrameType.RESULTS, w.toByteArray()); // the pool's timeout clock reads progress
        } else {
            channel.sendBuffered(FrameType.RESULTS, w.toByteArray());
        }
        return results.size();
    }

    private void sendFailure(long batchId, int offset, Throwable failure) throws IOException {
        var w = new PayloadWriter();
        w.writeLong(batchId);
        w.writeInt(offset);
        w.bytes(RemoteFailure.encode(failure, codec));
        if (streamResults) {
            channel.send(FrameType.FAILED, w.toByteArray());
        } else {
            channel.sendBuffered(FrameType.FAILED, w.toByteArray());
        }
    }
}
