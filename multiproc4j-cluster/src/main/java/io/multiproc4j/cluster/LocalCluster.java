package io.multiproc4j.cluster;

import io.multiproc4j.cluster.internal.HazelcastSettings;
import io.multiproc4j.cluster.internal.WorkerMain;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Worker members on loopback, as child JVMs of this one: what {@link ClusterPool#local(int)}
 * starts, and what tests and demos use to add, kill and count members.
 *
 * <pre>
 *  start(n): pick n free loopback ports ─► start member 1, wait for its "ready" line
 *            ─► start members 2..n at once (they join member 1) ─► wait for every "ready"
 *  each child: stdin = key (one hex line), then the lifeline; stdout = ready/stopped lines; stderr inherited
 *  close():  close every child's stdin (it terminates its member and exits) ─► wait ─► SIGKILL stragglers
 * </pre>
 *
 * The key is random per cluster and reaches children only through their standard input, never
 * their command line. The cluster name is unique per cluster, so clusters of other runs on the
 * same machine never merge with this one.
 */
public final class LocalCluster implements AutoCloseable {
    private static final AtomicInteger CLUSTERS = new AtomicInteger();
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(90);

    private final byte[] key;
    private final String name;
    private final int threadsPerMember;
    private final List<String> seeds;
    private final List<LocalMember> members = new CopyOnWriteArrayList<>();
    private final AtomicInteger started = new AtomicInteger();
    private volatile boolean closed;

    /**
     * A member JVM of this cluster.
     *
     * @param address {@code 127.0.0.1:port}
     * @param process the child JVM
     * @param output  what it printed on standard output
     */
    public record LocalMember(String address, Process process, List<String> output) {
        /** @return the member JVM's pid */
        public long pid() {
            return process.pid();
        }
    }

    private LocalCluster(byte[] key, String name, int threadsPerMember, List<String> seeds) {
        this.key = key;
        this.name = name;
        this.threadsPerMember = threadsPerMember;
        this.seeds = seeds;
    }

    /**
     * @param members how many members; they share this machine's processors (each runs
     *                {@code max(1, processors / members)} chunks at once), so that they do not oversubscribe it
     * @return the running cluster, once every member has joined
     */
    public static LocalCluster start(int members) {
        return start(members, Math.max(1, Runtime.getRuntime().availableProcessors() / Math.max(1, members)));
    }

    /**
     * @param members          how many members
     * @param threadsPerMember chunks each runs at once
     * @return the running cluster, once every member has joined
     * @throws IllegalStateException when a member does not start, with its output
     */
    public static LocalCluster start(int members, int threadsPerMember) {
        if (members < 1) {
            throw new IllegalArgumentException("a local cluster needs at least 1 member, was " + members);
        }
        if (threadsPerMember < 1) {
            throw new IllegalArgumentException("threadsPerMember must be >= 1, was " + threadsPerMember);
        }
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        String name = "local-" + ProcessHandle.current().pid() + "-" + CLUSTERS.incrementAndGet();
        List<String> ports = new ArrayList<>();
        for (int i = 0; i < members; i++) {
            ports.add("127.0.0.1:" + freePort());
        }
        var cluster = new LocalCluster(key, name, threadsPerMember, List.copyOf(ports));
        try {
            cluster.startMember(ports.get(0)).join();
            List<CompletableFuture<LocalMember>> rest = new ArrayList<>();
            for (int i = 1; i < members; i++) {
                rest.add(cluster.startMember(ports.get(i)));
            }
            for (var f : rest) {
                f.join();
            }
            return cluster;
        } catch (RuntimeException e) {
            cluster.close();
            Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
            throw cause instanceof RuntimeException re ? re : new IllegalStateException(cause);
        }
    }

    private static int freePort() {
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException("no free loopback port: " + e, e);
        }
    }

    /**
     * Starts one more member, which joins the others (a pool's calls running now give it work).
     *
     * @return the member, once it has joined
     */
    public LocalMember addMember() {
        return startMember("127.0.0.1:" + freePort()).join();
    }

    /**
     * Starts a member with another key but the same addresses: it forms a cluster of its own and
     * gets no work. With {@code sameHazelcastName} it even joins ours (as a member that learned the
     * cluster name but not the key would): it still gets no work, since it cannot prove the key.
     *
     * @param otherKey          its key
     * @param sameHazelcastName whether to give it our derived Hazelcast cluster name outright
     * @return the member, once it runs
     */
    public LocalMember addMemberWithKey(byte[] otherKey, boolean sameHazelcastName) {
        String raw = sameHazelcastName ? new io.multiproc4j.cluster.internal.Keys(key).clusterName(name) : null;
        return startMember("127.0.0.1:" + freePort(), otherKey, raw).join();
    }

    private CompletableFuture<LocalMember> startMember(String address) {
        return startMember(address, key, null);
    }

    private boolean anyAlive() {
        return members.stream().anyMatch(m -> m.process().isAlive());
    }

    private CompletableFuture<LocalMember> startMember(String address, byte[] memberKey, String rawName) {
        if (closed) {
            throw new IllegalStateException("the local cluster is closed");
        }
        int port = Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(HazelcastSettings.JVM_FLAGS);
        command.add("-Dmultiproc4j.cluster.quiet=true");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(WorkerMain.class.getName());
        // join through every member alive now as well as the first ones: the seeds may have been killed
        var join = new java.util.LinkedHashSet<>(seeds);
        for (LocalMember m : members) {
            if (m.process().isAlive()) {
                join.add(m.address());
            }
        }
        command.addAll(List.of("--join", String.join(",", join), "--cluster", name, "--key-file", "-",
                "--bind", "127.0.0.1", "--port", Integer.toString(port), "--threads", Integer.toString(threadsPerMember)));
        if (rawName != null) {
            command.addAll(List.of("--hazelcast-cluster-name", rawName));
        } else if (java.util.Arrays.equals(memberKey, key) && anyAlive()) {
            command.add("--await-others");
        }
        Process process;
        try {
            process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            OutputStream stdin = process.getOutputStream();
            stdin.write((HexFormat.of().formatHex(memberKey) + "\n").getBytes(StandardCharsets.US_ASCII));
            stdin.flush();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start a member JVM: " + e, e);
        }
        List<String> output = new CopyOnWriteArrayList<>();
        var member = new LocalMember(address, process, output);
        members.add(member);
        var ready = new CompletableFuture<LocalMember>();
        Thread.ofPlatform().daemon().name("multiproc4j-cluster-member-out-" + started.incrementAndGet()).start(() -> {
            try (var out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                    output.add(line);
                    if (line.startsWith("ready ")) {
                        ready.complete(member);
                    }
                }
            } catch (IOException e) {
                // the member is gone
            }
            ready.completeExceptionally(new IllegalStateException("member " + address + " exited with code "
                    + exitCode(process) + " before it was ready; it printed " + output + " (its stderr is above)"));
        });
        return ready.orTimeout(READY_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    }

    private static String exitCode(Process p) {
        try {
            return p.waitFor(5, TimeUnit.SECONDS) ? Integer.toString(p.exitValue()) : "(still running)";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "?";
        }
    }

    /** @return a config that reaches this cluster: its members, name and key */
    public ClusterConfig config() {
        List<String> addresses = new ArrayList<>();
        for (LocalMember m : members) {
            if (m.process().isAlive()) {
                addresses.add(m.address());
            }
        }
        if (addresses.isEmpty()) {
            addresses.addAll(seeds);
        }
        return ClusterConfig.members(addresses.toArray(String[]::new)).clusterName(name).authKey(key);
    }

    /** @return the members started so far, live or not */
    public List<LocalMember> members() {
        return List.copyOf(members);
    }

    /**
     * Stops one member the way close does (its lifeline closes, it leaves and exits), and waits.
     *
     * @param member a member of this cluster
     * @return its exit code
     */
    public int stop(LocalMember member) {
        try {
            member.process().getOutputStream().close();
            if (!member.process().waitFor(20, TimeUnit.SECONDS)) {
                member.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            return member.process().exitValue();
        } catch (IOException e) {
            return member.process().exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            member.process().destroyForcibly();
            return -1;
        }
    }

    /** Stops every member: closes its lifeline, waits up to 20 s, then kills it. */
    @Override
    public void close() {
        closed = true;
        for (LocalMember m : members) {
            try {
                m.process().getOutputStream().close();
            } catch (IOException e) {
                // already gone
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        for (LocalMember m : members) {
            try {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !m.process().waitFor(left, TimeUnit.NANOSECONDS)) {
                    m.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                m.process().destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
