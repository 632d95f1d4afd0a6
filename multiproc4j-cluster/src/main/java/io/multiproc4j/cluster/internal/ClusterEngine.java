package io.multiproc4j.cluster.internal;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.IExecutorService;
import io.multiproc4j.BrokenPoolException;
import io.multiproc4j.TaskFailedException;
import io.multiproc4j.TaskTimeoutException;
import io.multiproc4j.WorkerRef;
import io.multiproc4j.cluster.ClusterPool.MemberLoss;
import io.multiproc4j.cluster.ClusterPool.MemberState;
import io.multiproc4j.cluster.internal.Wire.ChunkReply;
import io.multiproc4j.cluster.internal.Wire.ChunkTask;
import io.multiproc4j.spi.Batch;
import io.multiproc4j.spi.Codec;
import io.multiproc4j.spi.Engine;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Runs batches on the members of a Hazelcast cluster, from a Hazelcast client in this JVM.
 *
 * <pre>
 *  execute(batch) ─► pending (deque) ─► dispatcher thread: picks the trusted member with the most
 *                                        free slots (capacity + prefetch − in flight), signs the chunk,
 *                                        IExecutorService.submitToMember
 *                                                   │
 *        member ─► ChunkReply ─► result thread: attempt still current? MAC ok? ─► deliver / fail
 *        member left ─► its attempts are superseded and the chunks go back to the head of pending
 *                       (at most {@code retries} times each), so they run elsewhere
 * </pre>
 *
 * <h2>Trust</h2>
 * A member gets work only when its host is allowed and it publishes the proof of the key for its
 * own address ({@link Keys#memberProof}); a reply is decoded only after its MAC checked out and
 * its nonce matched the attempt. A member whose reply fails the check is distrusted for good and
 * its chunk runs elsewhere, without spending a retry. Tasks carry their issue time in the member's
 * clock as this client estimates it; a member that answers STALE ({@link ReplayGuard}) tells its
 * time, and the chunk is re-signed and sent again without spending a retry.
 *
 * <h2>Concurrency</h2>
 * One lock guards the pending deque, the member table and every chunk's current attempt. The
 * dispatcher and the membership listener change them under the lock; replies settle an attempt
 * under the lock, then decode and deliver outside it. Exactly once: an attempt settles once, and a
 * chunk delivers only through its current attempt; a superseded attempt's late reply is dropped.
 *
 * <h2>Crash handling</h2>
 * A member killed mid-chunk is noticed twice: its invocation fails (its connection closed) and the
 * cluster removes it; whichever comes first re-queues the chunk. With no member at all, chunks
 * wait {@code memberWaitTimeout} for one to join, then fail: the pool never hangs.
 *
 * <h2>Shutdown</h2>
 * RUNNING → SHUTDOWN (no new batches; pending and running ones finish) → STOPPED (client shut
 * down). {@link #shutdownNow()} goes to STOPPED at once: running chunks fail with
 * {@link CancellationException} (their member-side invocations are cancelled, which interrupts the
 * task), pending ones are handed back.
 */
public final class ClusterEngine implements Engine {
    private enum State { RUNNING, SHUTDOWN, STOPPED }

    private static final SecureRandom NONCES = new SecureRandom();

    private final HazelcastInstance client;
    private final IExecutorService executor;
    private final Keys keys;
    private final Codec codec;
    private final int retries;
    private final long timeoutNanos;
    private final int prefetch;
    private final int maxInFlight;
    private final long memberWaitNanos;
    private final Set<String> allowedHosts;
    private final Set<String> allowedPackages;
    private final ExecutorService results;
    private final Thread dispatcher;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Chunk> pending = new ArrayDeque<>();
    private final Map<UUID, Slot> members = new HashMap<>();
    private final Set<UUID> distrusted = new LinkedHashSet<>();
    private final Set<Chunk> running = new LinkedHashSet<>();
    private final List<MemberLoss> recoveries = new CopyOnWriteArrayList<>();
    private State state = State.RUNNING;
    private long noMemberSince;
    private volatile boolean terminated;

    /** A member that may get work, with what it holds now. */
    private static final class Slot {
        final Member member;
        final String address;
        final int capacity;
        final long pid;
        final Set<Chunk> inFlight = new LinkedHashSet<>();
        long chunksDone;
        /** Gets no new chunk before this ({@link System#nanoTime()}); 0 for none. */
        long suspendedUntil;
        /** The member's clock minus ours, ms, as its last STALE reply told; tasks are stamped in its time. */
        volatile long clockOffsetMillis;

        Slot(Member member, String address, int capacity, long pid) {
            this.member = member;
            this.address = address;
            this.capacity = capacity;
            this.pid = pid;
        }
    }

    /** One batch and its current attempt. */
    private static final class Chunk {
        final Batch batch;
        int attempts;
        Slot slot;
        long nonce;
        Future<ChunkReply> future;
        boolean ended;
        /** STALE replies in a row: the member judged the attempt outside its replay window. */
        int stale;

        Chunk(Batch batch) {
            this.batch = batch;
        }
    }

    private ClusterEngine(HazelcastInstance client, Keys keys, int retries, Duration taskTimeout, int prefetch,
                          int maxInFlight, Duration memberWait, Set<String> allowedHosts, Set<String> allowedPackages) {
        this.client = client;
        this.executor = client.getExecutorService(HazelcastSettings.EXECUTOR);
        this.keys = keys;
        this.codec = Codec.standard();
        this.retries = retries;
        this.timeoutNanos = taskTimeout == null ? 0 : taskTimeout.toNanos();
        this.prefetch = prefetch;
        this.maxInFlight = maxInFlight;
        this.memberWaitNanos = memberWait.toNanos();
        this.allowedHosts = allowedHosts;
        this.allowedPackages = allowedPackages;
        this.results = Executors.newFixedThreadPool(2, Thread.ofPlatform().daemon().name("multiproc4j-cluster-results-", 1).factory());
        this.dispatcher = Thread.ofPlatform().daemon().name("multiproc4j-cluster-dispatch").unstarted(this::dispatch);
    }

    /**
     * Connects a client and waits until a trusted member is there.
     *
     * @param clusterName      the user's cluster name
     * @param members          addresses to try
     * @param key              the key
     * @param retries          re-runs of a lost chunk
     * @param taskTimeout      per task, or null
     * @param prefetch         chunks per member beyond its capacity
     * @param maxInFlight      chunks in flight at once, across members
     * @param connectTimeout   how long to try
     * @param memberWait       how long chunks wait while no member is there
     * @param allowedHosts     hosts whose members get work
     * @param allowedPackages  packages members may deserialize
     * @return the engine
     * @throws IllegalStateException with what went wrong and what to do, when no member holding the
     *     key can be reached in time
     */
    public static ClusterEngine connect(String clusterName, List<String> members, byte[] key, int retries,
                                        Duration taskTimeout, int prefetch, int maxInFlight, Duration connectTimeout,
                                        Duration memberWait, Set<String> allowedHosts, Set<String> allowedPackages) {
        Keys keys = new Keys(key);
        HazelcastInstance client;
        try {
            client = HazelcastClient.newHazelcastClient(
                    HazelcastSettings.client(keys.clusterName(clusterName), members, connectTimeout.toMillis()));
        } catch (IllegalStateException e) {
            throw new IllegalStateException(unreachable(clusterName, members, connectTimeout), e);
        }
        var engine = new ClusterEngine(client, keys, retries, taskTimeout, prefetch, maxInFlight, memberWait,
                allowedHosts, allowedPackages);
        try {
            engine.start(connectTimeout);
        } catch (RuntimeException e) {
            engine.shutdownNow();
            throw e;
        }
        return engine;
    }

    private static String unreachable(String clusterName, List<String> members, Duration timeout) {
        List<String> answering = new ArrayList<>();
        for (String m : members) {
            int colon = m.lastIndexOf(':');
            try (var socket = new Socket()) {
                socket.connect(new InetSocketAddress(m.substring(0, colon), Integer.parseInt(m.substring(colon + 1))), 1000);
                answering.add(m);
            } catch (IOException | RuntimeException e) {
                // not listening
            }
        }
        if (!answering.isEmpty()) {
            return "the members at " + answering + " answer but refused this client within " + timeout.toSeconds()
                    + " s: the cluster name they run is derived from their key and '" + clusterName
                    + "', and it does not match ours. Check that this program uses the same key file and cluster "
                    + "name as the workers (multiproc worker --key-file ... --cluster ...)";
        }
        return "no cluster member listens at " + members + " (tried for " + timeout.toSeconds() + " s): start workers "
                + "there with 'multiproc worker --join ... --key-file ...', or fix the addresses";
    }

    private void start(Duration connectTimeout) {
        client.getCluster().addMembershipListener(new MembershipListener() {
            @Override
            public void memberAdded(MembershipEvent event) {
                consider(event.getMember());
            }

            @Override
            public void memberRemoved(MembershipEvent event) {
                lost(event.getMember().getUuid(), "left the cluster");
            }
        });
        for (Member m : client.getCluster().getMembers()) {
            consider(m);
        }
        long deadline = System.nanoTime() + connectTimeout.toNanos();
        lock.lock();
        try {
            while (members.isEmpty()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IllegalStateException("connected to the cluster, but none of its members "
                            + client.getCluster().getMembers().stream().map(ClusterEngine::address).toList()
                            + " proves it holds this key for its own address on an allowed host " + allowedHosts
                            + " within " + connectTimeout.toSeconds() + " s; start members with 'multiproc worker' "
                            + "and the same key file, or allow their hosts with ClusterConfig.allowMemberHosts");
                }
                changed.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a cluster member");
        } finally {
            lock.unlock();
        }
        dispatcher.start();
    }

    private static String address(Member m) {
        return m.getAddress().getHost() + ":" + m.getAddress().getPort();
    }

    /** Admits a member that is on an allowed host and proves the key for its address. */
    private void consider(Member m) {
        String address = address(m);
        String proof = m.getAttribute(HazelcastSettings.PROOF);
        String capacity = m.getAttribute(HazelcastSettings.CAPACITY);
        if (!allowedHosts.contains(m.getAddress().getHost())) {
            System.err.println("multiproc4j cluster: member " + address + " is not on an allowed host " + allowedHosts
                    + "; it gets no work");
            return;
        }
        if (proof == null || !Keys.same(keys.memberProof(address).getBytes(java.nio.charset.StandardCharsets.UTF_8),
                proof.getBytes(java.nio.charset.StandardCharsets.UTF_8)) || capacity == null) {
            System.err.println("multiproc4j cluster: member " + address + " does not prove it holds the key; it gets no work");
            return;
        }
        long pid;
        int cap;
        try {
            cap = Math.max(1, Integer.parseInt(capacity));
            pid = Long.parseLong(m.getAttribute(HazelcastSettings.PID));
        } catch (RuntimeException e) {
            return;
        }
        lock.lock();
        try {
            if (!distrusted.contains(m.getUuid()) && state != State.STOPPED) {
                members.putIfAbsent(m.getUuid(), new Slot(m, address, cap, pid));
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** A member left (or could not be reached): its chunks go back to the head of the queue. */
    private void lost(UUID uuid, String how) {
        List<Chunk> failed = new ArrayList<>();
        RuntimeException why = null;
        lock.lock();
        try {
            Slot slot = members.remove(uuid);
            if (slot == null) {
                return;
            }
            List<Chunk> held = new ArrayList<>(slot.inFlight);
            held.sort(Comparator.comparingLong(c -> c.batch.firstIndex()));
            int requeued = 0;
            for (int i = held.size() - 1; i >= 0; i--) {
                Chunk c = held.get(i);
                running.remove(c);
                c.slot = null;
                c.future = null;
                if (c.attempts > retries) {
                    c.ended = true;
                    failed.add(c);
                } else {
                    pending.addFirst(c);
                    requeued++;
                }
            }
            if (requeued > 0) {
                recoveries.add(new MemberLoss(slot.address, requeued, System.nanoTime(), 0));
            }
            why = new IllegalStateException("member " + slot.address + " (pid " + slot.pid + ") " + how);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        for (Chunk c : failed) {
            long index = c.batch.firstIndex();
            c.batch.fail(0, new TaskFailedException("task " + index + " was lost: " + why.getMessage() + " while running it"
                    + (retries == 0 ? "; set ClusterConfig.retries(n) to run lost chunks again elsewhere (idempotent work only)"
                    : " and its " + retries + " retries are spent"), why, index, null));
        }
    }

    // ───────────────────────────── Engine ─────────────────────────────

    @Override
    public int workers() {
        lock.lock();
        try {
            int sum = 0;
            for (Slot s : members.values()) {
                sum += s.capacity;
            }
            return Math.max(1, Math.min(sum, maxInFlight));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean shipsTasks() {
        return true;
    }

    @Override
    public void execute(Batch batch) {
        lock.lock();
        try {
            if (state != State.RUNNING) {
                throw new java.util.concurrent.RejectedExecutionException("the cluster pool is shut down and takes no new work");
            }
            pending.addLast(new Chunk(batch));
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void dispatch() {
        while (true) {
            Chunk chunk;
            Slot slot;
            List<Chunk> expired = List.of();
            lock.lock();
            try {
                if (state == State.STOPPED) {
                    return;
                }
                if (state == State.SHUTDOWN && pending.isEmpty() && running.isEmpty()) {
                    break;
                }
                chunk = pending.peekFirst();
                if (chunk != null && chunk.batch.isCancelled()) {
                    pending.pollFirst();
                    continue;
                }
                slot = chunk == null || running.size() >= maxInFlight ? null : pick();
                if (chunk != null && members.isEmpty()) {
                    long now = System.nanoTime();
                    if (noMemberSince == 0) {
                        noMemberSince = now;
                    } else if (now - noMemberSince > memberWaitNanos) {
                        expired = new ArrayList<>(pending);
                        pending.clear();
                        expired.forEach(c -> c.ended = true);
                    }
                } else {
                    noMemberSince = 0;
                }
                if (slot == null) {
                    if (expired.isEmpty()) {
                        changed.await(100, TimeUnit.MILLISECONDS);
                        continue;
                    }
                } else {
                    pending.pollFirst();
                    chunk.attempts++;
                    chunk.slot = slot;
                    chunk.nonce = NONCES.nextLong();
                    slot.inFlight.add(chunk);
                    running.add(chunk);
                }
            } catch (InterruptedException e) {
                return;
            } finally {
                lock.unlock();
            }
            for (Chunk c : expired) {
                long index = c.batch.firstIndex();
                c.batch.fail(0, new TaskFailedException("task " + index + " waited " + Duration.ofNanos(memberWaitNanos).toSeconds()
                        + " s and no cluster member was there to run it; start workers (multiproc worker ...)", null, index, null));
            }
            if (slot != null) {
                send(chunk, slot);
            }
        }
        stopClient();
    }

    /** The member with the most free slots; ties go to the one holding fewer chunks. Under the lock. */
    private Slot pick() {
        Slot best = null;
        int bestFree = 0;
        long now = System.nanoTime();
        for (Slot s : members.values()) {
            if (s.suspendedUntil != 0 && now - s.suspendedUntil < 0) {
                continue;
            }
            int free = s.capacity + prefetch - s.inFlight.size();
            if (free > bestFree || free == bestFree && free > 0 && best != null && s.inFlight.size() < best.inFlight.size()) {
                best = s;
                bestFree = free;
            }
        }
        return bestFree > 0 ? best : null;
    }

    private void send(Chunk chunk, Slot slot) {
        Batch batch = chunk.batch;
        byte[] payload;
        try {
            byte[] inputs = batch.encodedInputs();
            if (inputs == null) {
                inputs = codec.encode(new ArrayList<>(batch.inputs()));
            }
            var out = new Wire.Out();
            out.writeLong(chunk.nonce);
            out.writeLong(System.currentTimeMillis() + slot.clockOffsetMillis);
            out.writeLong(batch.firstIndex());
            out.writeLong(timeoutNanos);
            out.writeUTF(packagesFor(batch));
            Wire.writeBytes(out, batch.encodedFunction());
            Wire.writeBytes(out, inputs);
            payload = out.toByteArray();
        } catch (IOException | RuntimeException e) {
            settle(chunk, chunk.nonce);
            long index = batch.firstIndex();
            batch.fail(0, new TaskFailedException("the inputs of task " + index + " cannot be sent to cluster members: " + e,
                    e, index, null));
            return;
        }
        var task = new ChunkTask(payload, keys.mac("task", payload));
        long nonce = chunk.nonce;
        Future<ChunkReply> future;
        try {
            future = executor.submitToMember(task, slot.member);
        } catch (RuntimeException e) {
            results.execute(() -> onFailure(chunk, nonce, slot, e));
            return;
        }
        lock.lock();
        try {
            if (chunk.nonce == nonce && !chunk.ended) {
                chunk.future = future;
            }
        } finally {
            lock.unlock();
        }
        if (future instanceof CompletionStage<?> stage) {
            @SuppressWarnings("unchecked")
            var replies = (CompletionStage<ChunkReply>) stage;
            replies.whenCompleteAsync((reply, failure) -> {
                if (failure != null) {
                    onFailure(chunk, nonce, slot, failure);
                } else {
                    onReply(chunk, nonce, slot, reply);
                }
            }, results);
        } else {
            results.execute(() -> {
                try {
                    onReply(chunk, nonce, slot, future.get());
                } catch (java.util.concurrent.ExecutionException e) {
                    onFailure(chunk, nonce, slot, e.getCause());
                } catch (InterruptedException | CancellationException e) {
                    onFailure(chunk, nonce, slot, e);
                }
            });
        }
    }

    /** The packages a task's decoding may load: the function's own, and the configured ones. */
    private String packagesFor(Batch batch) {
        var set = new LinkedHashSet<>(allowedPackages);
        String pkg = batch.function().getClass().getPackageName();
        if (!pkg.isEmpty()) {
            set.add(pkg);
        }
        return String.join(";", set);
    }

    /** Ends the attempt {@code nonce} if it is still the chunk's current one; false if it is stale. */
    private boolean settle(Chunk chunk, long nonce) {
        lock.lock();
        try {
            if (chunk.ended || chunk.nonce != nonce || chunk.slot == null) {
                return false;
            }
            chunk.slot.inFlight.remove(chunk);
            running.remove(chunk);
            chunk.slot.chunksDone++;
            chunk.slot = null;
            chunk.future = null;
            chunk.ended = true;
            changed.signalAll();
            return true;
        } finally {
            lock.unlock();
        }
    }

    private void onFailure(Chunk chunk, long nonce, Slot slot, Throwable failure) {
        if (failure instanceof CancellationException) {
            return; // we cancelled it (interrupt or shutdownNow) and failed the batch there
        }
        if (neverReached(failure)) {
            // The client's member list did not hold the member at that moment (it is leaving, or the list is
            // being updated as another joins): the chunk never reached it. Run it again without spending a
            // retry, and give that member a moment; membership events decide whether it is gone.
            lock.lock();
            try {
                if (chunk.nonce == nonce && !chunk.ended && chunk.slot == slot) {
                    slot.inFlight.remove(chunk);
                    running.remove(chunk);
                    chunk.slot = null;
                    chunk.future = null;
                    chunk.attempts--;
                    slot.suspendedUntil = System.nanoTime() + 200_000_000L;
                    pending.addFirst(chunk);
                    changed.signalAll();
                }
            } finally {
                lock.unlock();
            }
            return;
        }
        if (memberLoss(failure)) {
            lost(slot.member.getUuid(), "could not be reached (" + failure.getClass().getSimpleName() + ")");
            return;
        }
        if (!settle(chunk, nonce)) {
            return;
        }
        long index = chunk.batch.firstIndex();
        chunk.batch.fail(0, new TaskFailedException("task " + index + " failed in the cluster on member " + slot.address
                + ": " + failure, failure, index, new WorkerRef("member " + slot.address, slot.pid)));
    }

    private static boolean neverReached(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c.getClass().getSimpleName().equals("TargetNotMemberException")) {
                return true;
            }
        }
        return false;
    }

    private static boolean memberLoss(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            String name = c.getClass().getSimpleName();
            if (name.equals("MemberLeftException") || name.equals("TargetNotMemberException")
                    || name.equals("TargetDisconnectedException") || name.equals("HazelcastInstanceNotActiveException")
                    || c instanceof IOException) {
                return true;
            }
        }
        return false;
    }

    private void onReply(Chunk chunk, long nonce, Slot slot, ChunkReply reply) {
        boolean verified = reply != null && reply.payload != null && Keys.same(keys.mac("result", reply.payload), reply.mac);
        DataInputStream in = verified ? new DataInputStream(new ByteArrayInputStream(reply.payload)) : null;
        byte status;
        String memberName;
        long pid;
        try {
            if (in == null || in.readLong() != nonce) {
                distrust(slot, "its reply did not carry a valid MAC for this task (its key differs)");
                return;
            }
            status = in.readByte();
            memberName = in.readUTF();
            pid = in.readLong();
        } catch (IOException e) {
            distrust(slot, "its reply was malformed: " + e.getMessage());
            return;
        }
        if (status == Wire.STALE) {
            onStale(chunk, nonce, slot, in);
            return;
        }
        if (status == Wire.REFUSED) {
            String reason;
            try {
                reason = in.readUTF();
            } catch (IOException e) {
                reason = "?";
            }
            distrust(slot, "it refused the task: " + reason);
            return;
        }
        if (!settle(chunk, nonce)) {
            return;
        }
        Batch batch = chunk.batch;
        var worker = new WorkerRef(memberName, pid);
        try {
            if (status == Wire.OK) {
                List<?> values = (List<?>) codec.decode(Wire.readBytes(in));
                batch.deliver(0, values);
            } else {
                int offset = in.readInt();
                List<?> before = (List<?>) codec.decode(Wire.readBytes(in));
                Object failure = codec.decode(Wire.readBytes(in));
                if (!before.isEmpty()) {
                    batch.deliver(0, before);
                }
                long index = batch.firstIndex() + offset;
                RuntimeException e;
                if (failure instanceof TaskTimeoutException t) {
                    e = new TaskTimeoutException(index, worker, t.timeout());
                } else if (failure instanceof TaskFailedException t && t.getCause() == null) {
                    e = new TaskFailedException("task " + index + " failed on " + worker + ": " + t.getMessage(), t, index, worker);
                } else {
                    Throwable cause = (Throwable) failure;
                    e = new TaskFailedException("task " + index + " failed on " + worker + ": " + cause, cause, index, worker);
                }
                batch.fail(offset, e);
            }
        } catch (IOException | ClassNotFoundException | RuntimeException e) {
            long index = batch.firstIndex();
            batch.fail(0, new TaskFailedException("the results of task " + index + " from " + worker
                    + " could not be decoded here: " + e, e, index, worker));
        }
        noteRecovery();
    }

    /**
     * The member judged the attempt outside its replay window (our clocks differ, or the chunk
     * waited in its queue for long): learn its time and send the chunk again, re-signed, without
     * spending a retry; three in a row fail the chunk, naming the clocks.
     */
    private void onStale(Chunk chunk, long nonce, Slot slot, DataInputStream in) {
        long memberNow;
        String reason;
        try {
            memberNow = in.readLong();
            reason = in.readUTF();
        } catch (IOException e) {
            distrust(slot, "its reply was malformed: " + e.getMessage());
            return;
        }
        slot.clockOffsetMillis = memberNow - System.currentTimeMillis();
        boolean again = false;
        lock.lock();
        try {
            if (chunk.nonce == nonce && !chunk.ended && chunk.slot == slot && ++chunk.stale < 3) {
                slot.inFlight.remove(chunk);
                running.remove(chunk);
                chunk.slot = null;
                chunk.future = null;
                chunk.attempts--;
                pending.addFirst(chunk);
                changed.signalAll();
                again = true;
            }
        } finally {
            lock.unlock();
        }
        if (again || !settle(chunk, nonce)) {
            return;
        }
        long index = chunk.batch.firstIndex();
        chunk.batch.fail(0, new TaskFailedException("task " + index + " was refused 3 times by member " + slot.address
                + " as outside its replay window (" + reason + "); check that the clocks of this machine and the member's "
                + "agree within a minute", null, index, new WorkerRef("member " + slot.address, slot.pid)));
    }

    /** Marks recoveries done once no re-queued chunk is left pending or running. */
    private void noteRecovery() {
        if (recoveries.isEmpty()) {
            return;
        }
        lock.lock();
        try {
            boolean retrying = false;
            for (Chunk c : pending) {
                retrying |= c.attempts > 0;
            }
            for (Chunk c : running) {
                retrying |= c.attempts > 1;
            }
            if (!retrying) {
                for (int i = 0; i < recoveries.size(); i++) {
                    MemberLoss r = recoveries.get(i);
                    if (r.doneAtNanos() == 0) {
                        recoveries.set(i, new MemberLoss(r.member(), r.chunks(), r.lostAtNanos(), System.nanoTime()));
                    }
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** A member that answered without the key: never used again; its chunk runs elsewhere. */
    private void distrust(Slot slot, String why) {
        lock.lock();
        try {
            if (distrusted.add(slot.member.getUuid())) {
                System.err.println("multiproc4j cluster: member " + slot.address + " gets no more work: " + why);
            }
            for (Chunk c : slot.inFlight) {
                c.attempts--; // not the chunk's fault: it does not spend a retry
            }
        } finally {
            lock.unlock();
        }
        lost(slot.member.getUuid(), "was distrusted: " + why);
    }

    @Override
    public void interrupt(Batch batch) {
        Future<ChunkReply> future = null;
        boolean found = false;
        lock.lock();
        try {
            for (var it = pending.iterator(); it.hasNext(); ) {
                Chunk c = it.next();
                if (c.batch == batch) {
                    it.remove();
                    c.ended = true;
                    found = true;
                }
            }
            for (Chunk c : List.copyOf(running)) {
                if (c.batch == batch) {
                    future = c.future;
                    c.slot.inFlight.remove(c);
                    running.remove(c);
                    c.slot = null;
                    c.ended = true;
                    found = true;
                }
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (future != null) {
            future.cancel(true);
        }
        if (found) {
            batch.fail(0, new CancellationException("cancelled"));
        }
    }

    @Override
    public void shutdown() {
        lock.lock();
        try {
            if (state == State.RUNNING) {
                state = State.SHUTDOWN;
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (!dispatcher.isAlive() && !terminated) {
            stopClient();
        }
    }

    @Override
    public List<Batch> shutdownNow() {
        List<Batch> neverStarted = new ArrayList<>();
        List<Chunk> stopped;
        lock.lock();
        try {
            state = State.STOPPED;
            for (Chunk c : pending) {
                if (!c.batch.isCancelled()) {
                    neverStarted.add(c.batch);
                }
                c.ended = true;
            }
            pending.clear();
            stopped = new ArrayList<>(running);
            running.clear();
            for (Chunk c : stopped) {
                c.ended = true;
                if (c.slot != null) {
                    c.slot.inFlight.remove(c);
                }
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        var cancelled = new CancellationException("the pool was terminated before this task finished");
        for (Chunk c : stopped) {
            Future<ChunkReply> f = c.future;
            if (f != null) {
                try {
                    f.cancel(true);
                } catch (RuntimeException e) {
                    // the client may already be going down
                }
            }
            c.batch.fail(0, cancelled);
        }
        stopClient();
        return neverStarted;
    }

    private void stopClient() {
        synchronized (this) {
            if (terminated) {
                return;
            }
            lock.lock();
            try {
                state = State.STOPPED;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
            try {
                client.shutdown();
            } finally {
                results.shutdown();
                terminated = true;
                notifyAll();
            }
        }
        if (Thread.currentThread() != dispatcher) {
            try {
                dispatcher.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (this) {
            while (!terminated) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }
        return results.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    @Override
    public boolean isTerminated() {
        return terminated && results.isTerminated();
    }

    @Override
    public BrokenPoolException brokenReason() {
        return null;
    }

    /** @return the members that get work now */
    public List<MemberState> members() {
        lock.lock();
        try {
            return members.values().stream()
                    .map(s -> new MemberState(s.address, s.pid, s.capacity, s.inFlight.size(), s.chunksDone))
                    .sorted(Comparator.comparing(MemberState::address)).toList();
        } finally {
            lock.unlock();
        }
    }

    /** @return every member loss that sent chunks elsewhere, oldest first */
    public List<MemberLoss> recoveries() {
        return List.copyOf(recoveries);
    }

    /** @return the Hazelcast client, for shared objects over the same connection */
    public HazelcastInstance client() {
        return client;
    }
}
