package io.multiproc4j.cluster;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import io.multiproc4j.WorkerRef;
import io.multiproc4j.cluster.internal.HazelcastSettings;
import io.multiproc4j.cluster.internal.Keys;
import io.multiproc4j.cluster.internal.WorkerRuntime;
import java.util.List;
import java.util.Objects;

/**
 * A worker member in this JVM: what {@code multiproc worker} runs. It joins the cluster of the
 * given members, announces its capacity and its proof of the key, and runs the chunks clients send
 * it, after checking each one's MAC.
 *
 * {@snippet :
 * try (ClusterWorker worker = ClusterWorker.start(List.of("10.0.0.1:5701"), "analytics", key,
 *         "10.0.0.2", 5701, 8, false)) {
 *     worker.awaitStop();
 * }
 * }
 */
public final class ClusterWorker implements AutoCloseable {
    private final HazelcastInstance member;
    final WorkerRuntime runtime; // tests in this package read its counters and shift its clock
    private final String address;
    private final Object stopLock = new Object();
    private boolean stopped;

    static {
        io.multiproc4j.cluster.internal.Members.register(ClusterWorker::start);
    }

    private ClusterWorker(HazelcastInstance member, WorkerRuntime runtime, String address) {
        this.member = member;
        this.runtime = runtime;
        this.address = address;
    }

    /**
     * Starts the member and returns once it runs (joined, or alone as the first member).
     *
     * @param join        other members, {@code host:port}; may be empty for the first
     * @param clusterName the cluster's name, as clients give it
     * @param key         the shared key, at least 16 bytes
     * @param bind        the only interface to listen on, e.g. {@code 127.0.0.1}
     * @param port        the port
     * @param capacity    how many chunks run at once: threads, or worker JVMs with {@code processes}
     * @param processes   whether chunks run on a local pool of worker JVMs (a crashing task kills a
     *                    worker JVM, not the member)
     * @return the running worker
     */
    public static ClusterWorker start(List<String> join, String clusterName, byte[] key, String bind, int port,
                                      int capacity, boolean processes) {
        return start(join, clusterName, key, bind, port, capacity, processes, null);
    }

    /**
     * As {@link #start(List, String, byte[], String, int, int, boolean)}, with the Hazelcast
     * cluster name given outright instead of derived from the key: only for tests of what a member
     * that learned the name, but not the key, can do.
     */
    static ClusterWorker start(List<String> join, String clusterName, byte[] key, String bind, int port, int capacity,
                               boolean processes, String rawClusterName) {
        Objects.requireNonNull(join, "join");
        ClusterConfig.members(bind + ":" + port).clusterName(clusterName); // checks name and address
        if (capacity < 1) {
            throw new IllegalArgumentException("a worker needs a capacity >= 1 (threads or processes), was " + capacity);
        }
        for (String j : join) {
            ClusterConfig.checkAddress(j);
        }
        Keys keys = new Keys(key);
        String address = bind + ":" + port;
        var runtime = new WorkerRuntime(keys, new WorkerRef("member " + address, ProcessHandle.current().pid()),
                capacity, processes);
        runtime.install();
        String name = rawClusterName != null ? rawClusterName : keys.clusterName(clusterName);
        var config = HazelcastSettings.member(name, bind, port, join, capacity, keys.memberProof(address));
        HazelcastInstance member = Hazelcast.newHazelcastInstance(config);
        return new ClusterWorker(member, runtime, address);
    }

    /**
     * As {@link #start(List, String, byte[], String, int, int, boolean)} on threads, loading the
     * tasks' classes from {@code classPath} (the application's jars and class folders) as well as
     * from this JVM's class path.
     *
     * @param classPath the application's class path entries
     * @return the running worker
     */
    public static ClusterWorker start(List<String> join, String clusterName, byte[] key, String bind, int port,
                                      int capacity, List<java.nio.file.Path> classPath) {
        ClusterWorker worker = start(join, clusterName, key, bind, port, capacity, false, null);
        if (!classPath.isEmpty()) {
            java.net.URL[] urls = new java.net.URL[classPath.size()];
            for (int i = 0; i < urls.length; i++) {
                java.nio.file.Path entry = classPath.get(i);
                if (!java.nio.file.Files.exists(entry)) {
                    worker.close();
                    throw new IllegalArgumentException("class path entry " + entry + " does not exist");
                }
                try {
                    urls[i] = entry.toUri().toURL();
                } catch (java.net.MalformedURLException e) {
                    worker.close();
                    throw new IllegalArgumentException("class path entry " + entry + ": " + e.getMessage(), e);
                }
            }
            worker.runtime.applicationClasses(new java.net.URLClassLoader("multiproc4j-application", urls,
                    ClusterWorker.class.getClassLoader()));
        }
        return worker;
    }

    /** @return the member's address, {@code host:port} */
    public String address() {
        return address;
    }

    /** @return how many members the cluster has, this one included */
    public int clusterSize() {
        return member.getCluster().getMembers().size();
    }

    /** @return chunks this member ran */
    public long chunksRun() {
        return runtime.chunksRun();
    }

    /** @return chunks this member refused (MAC did not check out) */
    public long chunksRefused() {
        return runtime.chunksRefused();
    }

    /**
     * Waits until {@link #close()} is called (from a shutdown hook, for instance).
     *
     * @throws InterruptedException if interrupted
     */
    public void awaitStop() throws InterruptedException {
        synchronized (stopLock) {
            while (!stopped) {
                stopLock.wait();
            }
        }
    }

    /** Leaves the cluster gracefully (data partitions move to the others), then stops the runtime. */
    @Override
    public void close() {
        synchronized (stopLock) {
            if (stopped) {
                return;
            }
            stopped = true;
            stopLock.notifyAll();
        }
        try {
            member.shutdown();
        } finally {
            runtime.close();
        }
    }
}
