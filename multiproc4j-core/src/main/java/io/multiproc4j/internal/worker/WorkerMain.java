package io.multiproc4j.internal.worker;

import io.multiproc4j.SerializableFunction;
import io.multiproc4j.SerializableRunnable;
import io.multiproc4j.internal.codec.RemoteFailure;
import io.multiproc4j.internal.supervise.SupervisedChild;
import io.multiproc4j.internal.supervise.WorkerProcess;
import io.multiproc4j.internal.transport.FrameChannel;
import io.multiproc4j.internal.transport.FrameChannel.Frame;
import io.multiproc4j.internal.transport.FrameType;
import io.multiproc4j.internal.transport.WorkerLayout;
import io.multiproc4j.internal.transport.ShmRing;
import io.multiproc4j.internal.transport.WorkerMessage;
import io.multiproc4j.internal.transport.WorkerRings;
import io.multiproc4j.internal.transport.WorkerMessage.BatchMessage;
import io.multiproc4j.internal.transport.WorkerMessage.Setup;
import io.multiproc4j.spi.Codec;
import java.io.IOException;
import java.io.NotSerializableException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The main class of a worker JVM.
 *
 * <pre>
 *  connect ({@link SupervisedChild}: HELLO with the key from the environment) ─► SETUP ─► run initializer
 *      ─► READY ─► loop: BATCH ─► run each input ─► RESULTS / FAILED
 * </pre>
 * Messages are {@link WorkerMessage} records; their bytes are drawn in {@link WorkerLayout}.
 *
 * <h2>Threads</h2>
 * The lifeline thread reads every frame and queues batches, so the socket never backs up and the
 * parent's death (EOF, whatever killed it, SIGKILL included) is seen at once, even while a task
 * runs: the worker then halts. It also handles RECALL: a batch still queued is taken out and given
 * back, so an idle worker elsewhere can run it. The main thread runs batches in the order they
 * arrived and writes their results.
 *
 * <p>The lifeline never writes: a write blocks while the parent does not read, and the parent's
 * reader may itself be blocked writing to this worker, which only a reading lifeline unblocks.
 * (The main thread may hold the channel for a long time writing a large RESULTS frame, which the
 * parent's reader, blocked so, does not read: a lifeline that waited for the channel to answer
 * RECALL would close the cycle.) Its answer, RECALLED, goes to the answer thread, which writes it
 * when the channel is free.
 *
 * <h2>Functions</h2>
 * Decoded functions are kept by id. The parent decides what this table holds: it sends a
 * function's bytes the first time, and names a function to forget when its own bounded record of
 * this worker's table evicts one. Frames arrive in the order the parent wrote them, so both sides
 * agree; a recalled batch's "forget" is queued in its place, so it still happens in order.
 *
 * <h2>Rings</h2>
 * When SETUP names a segment ({@link WorkerRings}; {@code -Dmultiproc4j.transport=ring}), the main thread takes
 * BATCH and SHUTDOWN records from the request ring itself (spinning briefly where cores allow, then
 * sleeping in a read of its bell FIFO, into which the pool writes a byte only when this thread has
 * flagged itself asleep) and stores READY, RESULTS, FAILED, RETIRING and INIT_FAILED into the result
 * ring: a result is the pool's the moment its record is committed, a memory store, so "results
 * leave before user code runs again" costs no system call unless the pool's reader sleeps (then a
 * DOORBELL frame on the socket). No futex, so no FFM downcall on the start path. The socket is the
 * lifeline still, and carries RECALL and RECALLED. To answer RECALL the lifeline takes
 * {@code takeLock} (which the main thread holds only while it reads one record), moves every record
 * committed in the ring to {@code taken} and removes the recalled batch there; the main thread takes
 * from {@code taken} before the ring, so the order holds, and the lifeline rings the FIFO in case it
 * went to sleep on a ring it had just emptied.
 */
public final class WorkerMain {
    /** Environment variable holding the socket path. */
    public static final String ENV_SOCKET = WorkerProcess.ENV_SOCKET;
    /** Environment variable holding the one-time key, hex. */
    public static final String ENV_KEY = WorkerProcess.ENV_KEY;

    private static final byte[] NO_BYTES = {};

    /** A recalled batch's instruction to forget a function, kept in order in the inbox. */
    private record Forget(long functionId) {}

    private final FrameChannel channel;
    private Codec codec;
    private boolean streamResults;
    private long maxResidentBytes;
    /** {@link BatchMessage}, {@link Forget} or {@link WorkerMessage.Shutdown}, in arrival order. */
    private final LinkedBlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
    private final Map<Long, SerializableFunction<Object, Object>> functions = new HashMap<>();
    /** Messages from the lifeline (RECALLED), written by the answer thread: the lifeline never writes. */
    private final LinkedBlockingQueue<WorkerMessage> answers = new LinkedBlockingQueue<>();
    /** The rings named by SETUP, or null for the socket alone. */
    private WorkerRings rings;
    /** Guards reading the request ring (main, and the lifeline answering RECALL). */
    private final ReentrantLock takeLock = new ReentrantLock();
    /** Records the lifeline moved out of the request ring, oldest first (rings only). */
    private final ConcurrentLinkedQueue<Object> taken = new ConcurrentLinkedQueue<>();
    private final ShmRing.AdaptiveSpin takeSpin = new ShmRing.AdaptiveSpin(WorkerRings.SPIN_NANOS);
    private final ShmRing.AdaptiveSpin roomSpin = new ShmRing.AdaptiveSpin(0);

    private WorkerMain(FrameChannel channel) {
        this.channel = channel;
    }

    /**
     * @param args unused: everything comes through the environment and the socket
     * @throws Exception when the worker cannot connect; the pool sees it exit
     */
    public static void main(String[] args) throws Exception {
        new WorkerMain(SupervisedChild.connect("worker")).run();
    }

    private void run() throws Exception {
        if (!(WorkerMessage.decode(channel.receive()) instanceof Setup setup)) {
            throw new IOException("expected SETUP first");
        }
        if (!setup.rings().isEmpty()) {
            // the pool's reader flagged itself asleep on the socket: a DOORBELL frame wakes it
            rings = WorkerRings.attach(setup.rings(), () -> channel.sendCode(FrameType.DOORBELL.ordinal(), NO_BYTES));
        }
        streamResults = setup.streamResults();
        maxResidentBytes = setup.maxResidentBytes();
        Thread.currentThread().setName(setup.workerName());
        codec = (Codec) Class.forName(setup.codecClass(), true, Thread.currentThread().getContextClassLoader())
                .getConstructor().newInstance();
        if (codec.getClass() == io.multiproc4j.internal.codec.StandardCodec.class) {
            io.multiproc4j.internal.codec.JvmSerialFilter.openBeforeUserCode(); // perf: start-up, see there
        }
        Thread.ofPlatform().daemon().name("multiproc4j-answers").start(this::answerLoop);
        SupervisedChild.startLifeline(channel, this::onFrame);
        if (setup.initializer() != null) {
            try {
                ((SerializableRunnable) codec.decode(setup.initializer())).run();
            } catch (Throwable t) {
                send(new WorkerMessage.InitFailed(RemoteFailure.encode(t, codec)), true);
                System.exit(1);
            }
            Thread.interrupted(); // an initializer that left the flag set must not kill the worker
        }
        send(WorkerMessage.Ready.INSTANCE, true);
        while (true) {
            Object next = nextMessage();
            if (next == WorkerMessage.Shutdown.INSTANCE) {
                flush();
                System.out.flush();
                System.err.flush();
                System.exit(0);
            }
            if (next instanceof Forget(long id)) {
                functions.remove(id);
                continue;
            }
            // Results of earlier batches leave before user code runs again: if it kills this JVM,
            // the pool must see them, or it would blame the wrong batch for the death.
            flush();
            runBatch((BatchMessage) next);
            // A task may leave this thread's interrupt flag set: cleared before waiting for the next
            // batch, or take() would throw and end the worker.
            Thread.interrupted();
            if (inbox.isEmpty()) {
                flush();
            }
            if (maxResidentBytes > 0 && residentBytes() > maxResidentBytes) {
                // Checked between batches, so nothing queued has started: the pool requeues it all.
                send(WorkerMessage.Retiring.INSTANCE, true);
                System.exit(0);
            }
        }
    }

    /** On the lifeline thread: queue work, answer RECALL at once. */
    private void onFrame(Frame frame) throws IOException, InterruptedException {
        // An if chain, not a pattern switch: see StandardCodec.writeFast.
        WorkerMessage message = WorkerMessage.decode(frame);
        if (rings != null) {
            onFrameWithRings(message);
            return;
        }
        if (message instanceof BatchMessage || message instanceof WorkerMessage.Shutdown) {
            inbox.put(message);
        } else if (message instanceof WorkerMessage.Recall(long id)) {
            BatchMessage[] taken = new BatchMessage[1];
            boolean recalled = inbox.removeIf(o -> o instanceof BatchMessage b && b.batchId() == id && (taken[0] = b) != null);
            if (recalled && taken[0].forget() >= 0) {
                inbox.put(new Forget(taken[0].forget()));
            }
            answers.put(new WorkerMessage.Recalled(id, recalled)); // never written here: see Threads
        } else {
            throw new IOException("unexpected " + message.type() + " from the pool");
        }
    }

    /** On the lifeline, with rings: RECALL looks at every record committed in the request ring too. */
    private void onFrameWithRings(WorkerMessage message) throws IOException, InterruptedException {
        boolean recall = message instanceof WorkerMessage.Recall;
        if (!recall && !(message instanceof BatchMessage) && !(message instanceof WorkerMessage.Shutdown)) {
            throw new IOException("unexpected " + message.type() + " from the pool");
        }
        boolean recalled = false;
        long id = recall ? ((WorkerMessage.Recall) message).batchId() : -1;
        takeLock.lock();
        try {
            Frame frame;
            while ((frame = rings.requests().poll()) != null) {
                taken.add(WorkerMessage.decode(frame));
            }
            if (!recall) {
                taken.add(message); // not sent so by this library's pool, but kept in order if it is
            } else {
                BatchMessage[] found = new BatchMessage[1];
                recalled = taken.removeIf(o -> o instanceof BatchMessage b && b.batchId() == id && (found[0] = b) != null);
                if (recalled && found[0].forget() >= 0) {
                    taken.add(new Forget(found[0].forget()));
                }
            }
        } finally {
            takeLock.unlock();
        }
        rings.ringOwnBell(); // the main thread may have gone to sleep on the ring just emptied
        if (recall) {
            answers.put(new WorkerMessage.Recalled(id, recalled)); // never written here: see Threads
        }
    }

    /** On the answer thread: writes what the lifeline queued, waiting for the channel as long as it takes. */
    private void answerLoop() {
        try {
            while (true) {
                WorkerMessage answer = answers.take();
                answer.write(channel);
                channel.flush();
            }
        } catch (IOException | InterruptedException e) {
            Runtime.getRuntime().halt(1); // the parent is gone: the lifeline halts at EOF anyway
        }
    }

    /**
     * Writes on the calling thread. The main thread also runs user code, which may leave its
     * interrupt flag set: a write to the {@link java.nio.channels.SocketChannel} by an interrupted
     * thread closes the channel (ClosedByInterruptException) and so would kill the worker. The flag
     * is cleared first; the task has returned, so nothing is left to interrupt.
     */
    private void send(WorkerMessage message, boolean flush) throws IOException {
        Thread.interrupted();
        if (rings != null) {
            // committed at once (no system call unless the pool's reader sleeps); waits only for room
            rings.results().write(message.type().ordinal(), message.length(), message::writeBody, roomSpin, null,
                    rings::sleepOnBell);
            return;
        }
        message.write(channel);
        if (flush) {
            channel.flush();
        }
    }

    /** Flushes the channel, clearing the interrupt flag first (see {@link #send}). */
    private void flush() throws IOException {
        if (rings != null) {
            return; // every record is committed when written
        }
        Thread.interrupted();
        channel.flush();
    }

    /**
     * With cores to spare, spins briefly before parking: a batch usually follows a result within
     * microseconds, and a park/unpark costs more. On a machine with few cores the spin would take
     * the core that the pool's own threads need (measured: slower round trips on 2 cores), so none.
     */
    private static final long SPIN_NANOS = Runtime.getRuntime().availableProcessors() >= 4 ? 20_000 : 0;

    private Object nextMessage() throws InterruptedException, IOException {
        if (rings != null) {
            return nextRecord();
        }
        long spinUntil = System.nanoTime() + SPIN_NANOS;
        do {
            Object message = inbox.poll();
            if (message != null) {
                return message;
            }
            Thread.onSpinWait();
        } while (System.nanoTime() < spinUntil);
        return inbox.take();
    }

    /** With rings: what the lifeline moved aside first, then the request ring; spin, then sleep. */
    private Object nextRecord() throws IOException {
        ShmRing requests = rings.requests();
        java.util.function.BooleanSupplier movedAside = () -> !taken.isEmpty();
        while (true) {
            takeLock.lock();
            try {
                Object next = taken.poll();
                if (next != null) {
                    return next;
                }
                Frame frame = requests.poll();
                if (frame != null) {
                    return WorkerMessage.decode(frame);
                }
            } finally {
                takeLock.unlock();
            }
            requests.awaitData(takeSpin, movedAside, rings::sleepOnBell);
        }
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

    @SuppressWarnings("unchecked")
    private void runBatch(BatchMessage batch) throws IOException {
        long batchId = batch.batchId();
        long functionId = batch.functionId();
        byte[] functionBytes = batch.function();
        long forget = batch.forget();
        byte[] inputBytes = batch.inputs();
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

        if (!streamResults) { // perf: a loop per function class, see BatchLoop
            // perf (map5): Integer results stay unboxed and encode in bulk (IntResults)
            List<Object> results = io.multiproc4j.internal.codec.StandardCodec.resultList(codec, inputs.size());
            Throwable[] failure = new Throwable[1];
            int stop = BatchLoop.apply(fn, inputs, results, failure);
            int sent = sendResults(batchId, 0, results);
            if (stop < inputs.size() && sent == stop) {
                sendFailure(batchId, stop, failure[0]);
            }
            return;
        }
        List<Object> results = new ArrayList<>(inputs.size());
        int sent = 0;
        for (int i = 0; i < inputs.size(); i++) {
            Object result;
            try {
                result = fn.apply(inputs.get(i));
            } catch (Throwable t) {
                Thread.interrupted();
                sent += sendResults(batchId, sent, results);
                if (sent == i) {
                    sendFailure(batchId, i, t);
                }
                return;
            }
            Thread.interrupted(); // one task's interrupt flag must not reach the next, nor the socket
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
        // streamed: the pool's timeout clock reads progress
        send(new WorkerMessage.Results(batchId, offset, encoded), streamResults);
        return results.size();
    }

    private void sendFailure(long batchId, int offset, Throwable failure) throws IOException {
        send(new WorkerMessage.Failed(batchId, offset, RemoteFailure.encode(failure, codec)), streamResults);
    }
}
