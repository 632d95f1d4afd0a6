package io.multiproc4j.cluster.internal;

import io.multiproc4j.Pool;
import io.multiproc4j.RemoteTaskException;
import io.multiproc4j.SerializableFunction;
import io.multiproc4j.TaskFailedException;
import io.multiproc4j.TaskTimeoutException;
import io.multiproc4j.WorkerRef;
import io.multiproc4j.cluster.internal.Wire.ChunkReply;
import io.multiproc4j.cluster.internal.Wire.ChunkTask;
import io.multiproc4j.spi.Codec;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The member side of a chunk: checks the task's MAC, decodes it under the allowlist, runs it on
 * this thread (one of the member's executor threads, as many as its capacity) or on the member's
 * local process pool, and signs the reply.
 *
 * <pre>
 *  ChunkTask ─► MAC ok? ──no──► REFUSED (signed with our key; nothing decoded, nothing run)
 *                 │yes
 *                 ▼
 *   header well-formed? ──no──► REFUSED;  {@link ReplayGuard}: a replay ─► REFUSED, too old ─► STALE
 *                 │fresh
 *                 ▼
 *   decode function (cached by bytes) and inputs, under {@link SerialAllowlist}
 *                 ▼
 *   run each input: here, on a timed thread (taskTimeout), or on the process pool
 *                 ▼
 *   OK (results) / FAILED (offset, results before it, the exception) ─► signed ChunkReply
 * </pre>
 *
 * <h2>Concurrency</h2>
 * Hazelcast runs up to {@code capacity} tasks at once on its executor threads; this class keeps no
 * state per chunk, and the function cache is synchronized.
 *
 * <h2>Crash handling</h2>
 * With {@code processes}, a task that kills its JVM kills a worker of the local pool, not the
 * member: the chunk fails with {@link io.multiproc4j.WorkerCrashedException} and the member goes on.
 */
public final class WorkerRuntime implements AutoCloseable {
    private static volatile WorkerRuntime current;

    private final Keys keys;
    private final Codec codec = Codec.standard();
    private final WorkerRef self;
    private final int capacity;
    private final boolean processes;
    private final Map<Long, Pool> processPools = new ConcurrentHashMap<>();
    private final Map<FunctionKey, SerializableFunction<Object, Object>> functions = new LinkedHashMap<>(32, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<FunctionKey, SerializableFunction<Object, Object>> eldest) {
            return size() > 64;
        }
    };
    private final AtomicLong chunksRun = new AtomicLong();
    private final AtomicLong chunksRefused = new AtomicLong();
    private final AtomicLong chunksStale = new AtomicLong();
    private final ReplayGuard replays = new ReplayGuard();
    private volatile LongSupplier clock = System::currentTimeMillis;
    private volatile ClassLoader applicationClasses;

    /**
     * @param keys      the member's key
     * @param self      how results name this member
     * @param capacity  how many chunks run at once
     * @param processes whether chunks run on a local process pool of {@code capacity} worker JVMs
     */
    public WorkerRuntime(Keys keys, WorkerRef self, int capacity, boolean processes) {
        this.keys = keys;
        this.self = self;
        this.capacity = capacity;
        this.processes = processes;
    }

    /**
     * @param loader where tasks' classes are found (the worker's {@code --class-path}), or null for
     *               this JVM's class path
     */
    public void applicationClasses(ClassLoader loader) {
        this.applicationClasses = loader;
    }

    /** Makes this the runtime tasks arriving in this JVM use. */
    public void install() {
        SerialAllowlist.install();
        current = this;
    }

    static WorkerRuntime require() {
        WorkerRuntime runtime = current;
        if (runtime == null) {
            throw new IllegalStateException("this JVM is a Hazelcast member without a multiproc4j worker runtime; "
                    + "start members with 'multiproc worker'");
        }
        return runtime;
    }

    /** @return chunks run (completed or failed by their task) */
    public long chunksRun() {
        return chunksRun.get();
    }

    /** @return chunks refused: their MAC did not check out, or they were replays */
    public long chunksRefused() {
        return chunksRefused.get();
    }

    /** @return attempts answered STALE: issued outside this member's replay window, sent again by the client */
    public long chunksStale() {
        return chunksStale.get();
    }

    /**
     * @param millis the clock (epoch ms) the replay window is judged by; the system clock unless a
     *               test shifts it, to show how clients treat a member whose clock differs from theirs
     */
    public void clock(LongSupplier millis) {
        this.clock = java.util.Objects.requireNonNull(millis, "millis");
    }

    ChunkReply run(ChunkTask task) {
        ClassLoader loader = applicationClasses;
        if (loader == null) {
            return runChecked(task);
        }
        Thread thread = Thread.currentThread();
        ClassLoader before = thread.getContextClassLoader();
        thread.setContextClassLoader(loader);
        try {
            return runChecked(task);
        } finally {
            thread.setContextClassLoader(before);
        }
    }

    private ChunkReply runChecked(ChunkTask task) {
        long nonce = task.payload != null && task.payload.length >= 8 ? peekNonce(task.payload) : 0;
        if (task.payload == null || !Keys.same(keys.mac("task", task.payload), task.mac)) {
            chunksRefused.incrementAndGet();
            System.err.println("multiproc worker: refused a task whose MAC did not check out (the client's key "
                    + "differs from this member's); nothing of it was decoded or run");
            return refused(nonce, "the task's MAC did not check out on " + self + ": the client's key differs from the member's");
        }
        long issuedAt;
        long firstIndex;
        long timeoutNanos;
        String[] packages;
        byte[] functionBytes;
        byte[] inputBytes;
        try (var in = new DataInputStream(new ByteArrayInputStream(task.payload))) {
            in.readLong();
            issuedAt = in.readLong();
            firstIndex = in.readLong();
            timeoutNanos = in.readLong();
            String list = in.readUTF();
            packages = list.isEmpty() ? new String[0] : list.split(";");
            functionBytes = Wire.readBytes(in);
            inputBytes = Wire.readBytes(in);
        } catch (IOException e) {
            return refused(nonce, "malformed task payload: " + e.getMessage());
        }
        long now = clock.getAsLong();
        switch (replays.check(nonce, issuedAt, now)) {
            case REPLAY -> {
                chunksRefused.incrementAndGet();
                System.err.println("multiproc worker: refused a signed task already accepted once (nonce " + nonce
                        + "): a replay of recorded traffic; nothing of it was decoded or run");
                return refused(nonce, "the task was already accepted by " + self + " (nonce " + nonce
                        + "): a replayed task is not run again");
            }
            case STALE -> {
                chunksStale.incrementAndGet();
                return stale(nonce, now, "the task was issued at " + issuedAt + " ms, outside " + self
                        + "'s replay window around its time " + now + " ms (clocks apart, or it waited too long)");
            }
            case FRESH -> { }
        }
        SerializableFunction<Object, Object> fn;
        List<Object> inputs;
        SerialAllowlist.allow(packages);
        try {
            fn = function(functionBytes);
            inputs = decodeList(inputBytes);
        } catch (IOException | ClassNotFoundException | RuntimeException e) {
            chunksRun.incrementAndGet();
            String hint = e instanceof ClassNotFoundException
                    ? " (start the worker with the application's classes: multiproc worker --class-path ...)"
                    : e instanceof java.io.InvalidClassException
                            ? " (a class outside the deserialization allowlist: add its package with ClusterConfig.allowPackages)"
                            : "";
            return failed(nonce, 0, List.of(), new IllegalStateException("member " + self.name()
                    + " could not decode the task: " + e + hint, e));
        } finally {
            SerialAllowlist.clear();
        }
        chunksRun.incrementAndGet();
        if (processes) {
            return runOnProcesses(nonce, fn, inputs, timeoutNanos);
        }
        List<Object> results = new ArrayList<>(inputs.size());
        for (int i = 0; i < inputs.size(); i++) {
            try {
                results.add(timeoutNanos > 0 ? timed(fn, inputs.get(i), timeoutNanos) : fn.apply(inputs.get(i)));
            } catch (TimeoutException e) {
                return failed(nonce, i, results, new TaskTimeoutException(firstIndex + i, self, Duration.ofNanos(timeoutNanos)));
            } catch (Throwable t) {
                return failed(nonce, i, results, t);
            }
        }
        return ok(nonce, results);
    }

    private ChunkReply runOnProcesses(long nonce, SerializableFunction<Object, Object> fn, List<Object> inputs, long timeoutNanos) {
        Pool pool = processPools.computeIfAbsent(timeoutNanos, t -> {
            var builder = Pool.builder().processes(capacity);
            if (t > 0) {
                builder.taskTimeout(Duration.ofNanos(t));
            }
            return builder.build();
        });
        List<Object> results = new ArrayList<>(inputs.size());
        try {
            Iterator<Object> it = pool.imap(fn, inputs, Math.max(1, inputs.size() / (4 * capacity)));
            while (it.hasNext()) {
                results.add(it.next());
            }
            return ok(nonce, results);
        } catch (TaskFailedException e) {
            Throwable cause = e.getCause() != null && e.getClass() == TaskFailedException.class ? e.getCause() : e;
            return failed(nonce, (int) e.taskIndex(), results, cause);
        } catch (RuntimeException e) {
            return failed(nonce, results.size(), results, e);
        }
    }

    /** Runs one input on its own thread, so that a task past its time can be interrupted and left. */
    private static Object timed(SerializableFunction<Object, Object> fn, Object input, long timeoutNanos) throws Throwable {
        var future = new FutureTask<>(() -> fn.apply(input));
        Thread.ofPlatform().daemon().name("multiproc4j-cluster-timed-task").start(future);
        try {
            return future.get(timeoutNanos, TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            throw e.getCause();
        } catch (TimeoutException e) {
            future.cancel(true);
            throw e;
        }
    }

    private synchronized SerializableFunction<Object, Object> function(byte[] bytes) throws IOException, ClassNotFoundException {
        var key = new FunctionKey(bytes);
        SerializableFunction<Object, Object> fn = functions.get(key);
        if (fn == null) {
            Object decoded = codec.decode(bytes);
            if (!(decoded instanceof SerializableFunction<?, ?>)) {  // a null function would fail every input with an NPE
                throw new IOException("the function is a " + (decoded == null ? "null" : decoded.getClass().getName())
                        + ", not a SerializableFunction");
            }
            @SuppressWarnings("unchecked")
            var function = (SerializableFunction<Object, Object>) decoded;
            fn = function;
            functions.put(key, fn);
        }
        return fn;
    }

    @SuppressWarnings("unchecked")
    private List<Object> decodeList(byte[] bytes) throws IOException, ClassNotFoundException {
        Object value = codec.decode(bytes);
        if (!(value instanceof List<?> list)) {
            throw new IOException("the inputs are a " + (value == null ? "null" : value.getClass().getName()) + ", not a list");
        }
        return (List<Object>) list;
    }

    private static long peekNonce(byte[] payload) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (payload[i] & 0xff);
        }
        return v;
    }

    private Wire.Out header(long nonce, byte status) throws IOException {
        var out = new Wire.Out();
        out.writeLong(nonce);
        out.writeByte(status);
        out.writeUTF(self.name());
        out.writeLong(self.pid());
        return out;
    }

    private ChunkReply sign(Wire.Out out) throws IOException {
        byte[] payload = out.toByteArray();
        return new ChunkReply(payload, keys.mac("result", payload));
    }

    private ChunkReply ok(long nonce, List<Object> results) {
        try {
            var out = header(nonce, Wire.OK);
            Wire.writeBytes(out, codec.encode(results));
            return sign(out);
        } catch (IOException | RuntimeException e) {
            return failed(nonce, 0, List.of(), new IllegalStateException("a result could not be encoded on " + self + ": " + e, e));
        }
    }

    private ChunkReply failed(long nonce, int offset, List<Object> before, Throwable failure) {
        try {
            var out = header(nonce, Wire.FAILED);
            out.writeInt(offset);
            byte[] encodedBefore;
            try {
                encodedBefore = codec.encode(before);
            } catch (IOException | RuntimeException e) {
                encodedBefore = codec.encode(List.of());
                offset = 0;
            }
            Wire.writeBytes(out, encodedBefore);
            Wire.writeBytes(out, encodeFailure(failure));
            return sign(out);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private byte[] encodeFailure(Throwable failure) throws IOException {
        try {
            return codec.encode(failure);
        } catch (IOException | RuntimeException e) {
            return codec.encode(new RemoteTaskException(failure.getClass().getName(), failure.getMessage(), failure.getStackTrace()));
        }
    }

    private ChunkReply stale(long nonce, long now, String reason) {
        try {
            var out = header(nonce, Wire.STALE);
            out.writeLong(now);
            out.writeUTF(reason);
            return sign(out);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private ChunkReply refused(long nonce, String reason) {
        try {
            var out = header(nonce, Wire.REFUSED);
            out.writeUTF(reason);
            return sign(out);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        for (Pool pool : processPools.values()) {
            pool.terminate();
        }
        processPools.clear();
        if (current == this) {
            current = null;
        }
    }

    private record FunctionKey(byte[] bytes) {
        @Override
        public boolean equals(Object other) {
            return other instanceof FunctionKey(byte[] b) && Arrays.equals(b, bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }
    }
}
