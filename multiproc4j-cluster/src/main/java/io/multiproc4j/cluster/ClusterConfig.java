package io.multiproc4j.cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * How to reach a cluster and how to use it: an immutable value; every {@code with}-style method
 * returns a changed copy.
 *
 * {@snippet :
 * ClusterConfig config = ClusterConfig.members("10.0.0.1:5701", "10.0.0.2:5701")
 *         .clusterName("analytics")
 *         .authKey(key)                 // at least 16 bytes; the same on every member
 *         .retries(2);                  // chunks of a member that left run again elsewhere
 * }
 *
 * A program started by {@code multiproc launch} gets its members and key from the launcher:
 * {@link #fromEnvironment()}.
 */
public final class ClusterConfig {
    /** System property with the members, {@code host:port,host:port}; set by {@code multiproc launch}. */
    public static final String MEMBERS_PROPERTY = "multiproc4j.cluster.members";
    /** Environment variable with the members, when the property is absent. */
    public static final String MEMBERS_ENV = "MULTIPROC4J_CLUSTER_MEMBERS";
    /** Environment variable naming the file that holds the key. */
    public static final String KEY_FILE_ENV = "MULTIPROC4J_CLUSTER_KEY_FILE";
    /** Environment variable with the cluster name. */
    public static final String NAME_ENV = "MULTIPROC4J_CLUSTER_NAME";

    private final List<String> members;
    private final String clusterName;
    private final byte[] authKey;
    private final int retries;
    private final Duration taskTimeout;
    private final Duration connectTimeout;
    private final Duration memberWaitTimeout;
    private final int prefetch;
    private final int maxInFlight;
    private final Set<String> allowedHosts;
    private final Set<String> allowedPackages;

    private ClusterConfig(List<String> members, String clusterName, byte[] authKey, int retries, Duration taskTimeout,
                          Duration connectTimeout, Duration memberWaitTimeout, int prefetch, int maxInFlight,
                          Set<String> allowedHosts, Set<String> allowedPackages) {
        this.members = members;
        this.clusterName = clusterName;
        this.authKey = authKey;
        this.retries = retries;
        this.taskTimeout = taskTimeout;
        this.connectTimeout = connectTimeout;
        this.memberWaitTimeout = memberWaitTimeout;
        this.prefetch = prefetch;
        this.maxInFlight = maxInFlight;
        this.allowedHosts = allowedHosts;
        this.allowedPackages = allowedPackages;
    }

    /**
     * @param hostAndPorts addresses of members, each {@code host:port} (no port ranges)
     * @return a config with those members, cluster name {@code multiproc4j} and no key yet
     * @throws IllegalArgumentException when an address is malformed
     */
    public static ClusterConfig members(String... hostAndPorts) {
        Objects.requireNonNull(hostAndPorts, "hostAndPorts");
        if (hostAndPorts.length == 0) {
            throw new IllegalArgumentException("name at least one member, as host:port");
        }
        List<String> list = new ArrayList<>();
        for (String address : hostAndPorts) {
            list.add(checkAddress(address));
        }
        return new ClusterConfig(List.copyOf(list), "multiproc4j", null, 0, null, Duration.ofSeconds(20),
                Duration.ofSeconds(60), 1, Integer.MAX_VALUE, Set.of(), Set.of());
    }

    /**
     * The config a program started by {@code multiproc launch} gets: members from the system
     * property {@value #MEMBERS_PROPERTY} (or {@value #MEMBERS_ENV}), the key from the file named
     * by {@value #KEY_FILE_ENV}, the name from {@value #NAME_ENV}.
     *
     * @return the config
     * @throws IllegalStateException when the program was not started by the launcher
     */
    public static ClusterConfig fromEnvironment() {
        String members = System.getProperty(MEMBERS_PROPERTY, System.getenv(MEMBERS_ENV));
        String keyFile = System.getenv(KEY_FILE_ENV);
        if (members == null || keyFile == null) {
            throw new IllegalStateException("no cluster in the environment: " + MEMBERS_PROPERTY + " (or " + MEMBERS_ENV
                    + ") and " + KEY_FILE_ENV + " are set by 'multiproc launch'; start the program with it, or build "
                    + "the config with ClusterConfig.members(...)");
        }
        byte[] key;
        try {
            key = Files.readAllBytes(Path.of(keyFile));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the cluster key file " + keyFile + " (" + KEY_FILE_ENV + "): " + e, e);
        }
        ClusterConfig config = members(members.split(",")).authKey(key);
        String name = System.getenv(NAME_ENV);
        return name == null ? config : config.clusterName(name);
    }

    static String checkAddress(String address) {
        if (address == null || address.isBlank()) {
            throw new IllegalArgumentException("a member address is empty; write host:port");
        }
        String a = address.strip();
        int colon = a.lastIndexOf(':');
        if (colon <= 0 || colon == a.length() - 1) {
            throw new IllegalArgumentException("member address '" + address + "' needs a port: write host:port, e.g. 10.0.0.1:5701");
        }
        String port = a.substring(colon + 1);
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("member address '" + address + "' has port '" + port
                    + "', which is not a number (Hazelcast takes no port ranges: list each port)");
        }
        if (p < 1 || p > 65_535) {
            throw new IllegalArgumentException("member address '" + address + "' has port " + p + ", outside 1..65535");
        }
        return a;
    }

    private ClusterConfig with(List<String> members, String clusterName, byte[] authKey, int retries, Duration taskTimeout,
                               Duration connectTimeout, Duration memberWaitTimeout, int prefetch, int maxInFlight,
                               Set<String> allowedHosts, Set<String> allowedPackages) {
        return new ClusterConfig(members, clusterName, authKey, retries, taskTimeout, connectTimeout, memberWaitTimeout,
                prefetch, maxInFlight, allowedHosts, allowedPackages);
    }

    /**
     * @param name the cluster's name (letters, digits, {@code -_.}); the Hazelcast cluster name is
     *             derived from it and the key
     * @return a changed copy
     */
    public ClusterConfig clusterName(String name) {
        Objects.requireNonNull(name, "name");
        if (!name.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new IllegalArgumentException("cluster name '" + name + "' must be 1..64 letters, digits, '.', '_' or '-'");
        }
        return with(members, name, authKey, retries, taskTimeout, connectTimeout, memberWaitTimeout, prefetch,
                maxInFlight, allowedHosts, allowedPackages);
    }

    /**
     * @param key the shared key, at least 16 bytes (e.g. {@code head -c 32 /dev/urandom > key}); the
     *            array is copied
     * @return a changed copy
     */
    public ClusterConfig authKey(byte[] key) {
        Objects.requireNonNull(key, "key");
        if (key.length < 16) {
            throw new IllegalArgumentException("the cluster key must have at least 16 bytes, had " + key.length
                    + " (make one with: head -c 32 /dev/urandom > key)");
        }
        return with(members, clusterName, key.clone(), retries, taskTimeout, connectTimeout, memberWaitTimeout, prefetch,
                maxInFlight, allowedHosts, allowedPackages);
    }

    /**
     * @param retries how many times a chunk whose member left (killed, partitioned, stopped) runs
     *                again on another member; 0 (the default) fails it. Only for idempotent work.
     * @return a changed copy
     */
    public ClusterConfig retries(int retries) {
        if (retries < 0) {
            throw new IllegalArgumentException("retries must be >= 0, was " + retries);
        }
        return with(members, clusterName, authKey, retries, taskTimeout, connectTimeout, memberWaitTimeout, prefetch,
                maxInFlight, allowedHosts, allowedPackages);
    }

    /**
     * @param timeout how long one task may run on a member; past it the task fails with
     *                {@link io.multiproc4j.TaskTimeoutException} (a member runs tasks on threads, which
     *                are interrupted, or on its process pool, whose worker is killed)
     * @return a changed copy
     */
    public ClusterConfig taskTimeout(Duration timeout) {
        return with(members, clusterName, authKey, retries, positive("taskTimeout", timeout), connectTimeout,
                memberWaitTimeout, prefetch, maxInFlight, allowedHosts, allowedPackages);
    }

    /**
     * @param timeout how long {@code connect} tries to reach a member holding the key before it fails
     *                (default 20 s)
     * @return a changed copy
     */
    public ClusterConfig connectTimeout(Duration timeout) {
        return with(members, clusterName, authKey, retries, taskTimeout, positive("connectTimeout", timeout),
                memberWaitTimeout, prefetch, maxInFlight, allowedHosts, allowedPackages);
    }

    /**
     * @param timeout how long queued chunks wait while the cluster has no member to run them before
     *                they fail (default 60 s); a member that joins within it gets them
     * @return a changed copy
     */
    public ClusterConfig memberWaitTimeout(Duration timeout) {
        return with(members, clusterName, authKey, retries, taskTimeout, connectTimeout,
                positive("memberWaitTimeout", timeout), prefetch, maxInFlight, allowedHosts, allowedPackages);
    }

    /**
     * @param chunks how many chunks a member holds beyond its worker count, hiding the round trip
     *               (default 1); a slow member never holds more than capacity + this. A prefetched chunk
     *               waits on its member behind the running ones, however long they take, and a member
     *               need not start its chunks in the order they were sent
     * @return a changed copy
     */
    public ClusterConfig prefetch(int chunks) {
        if (chunks < 0) {
            throw new IllegalArgumentException("prefetch must be >= 0, was " + chunks);
        }
        return with(members, clusterName, authKey, retries, taskTimeout, connectTimeout, memberWaitTimeout, chunks,
                maxInFlight, allowedHosts, allowedPackages);
    }

    /**
     * @param chunks the most chunks this client has running across the cluster at once (default: no
     *               bound beyond the members' capacity); queued ones wait here, where they can be cancelled
     * @return a changed copy
     */
    public ClusterConfig maxInFlight(int chunks) {
        if (chunks < 1) {
            throw new IllegalArgumentException("maxInFlight must be >= 1, was " + chunks);
        }
        return with(members, clusterName, authKey, retries, taskTimeout, connectTimeout, memberWaitTimeout, prefetch,
                chunks, allowedHosts, allowedPackages);
    }

    /**
     * @param hosts the only member hosts (IP addresses, as members report them) that get work; by
     *              default the hosts of {@link #members}. A member elsewhere, even with the key's
     *              proof, gets nothing.
     * @return a changed copy
     */
    public ClusterConfig allowMemberHosts(String... hosts) {
        Set<String> set = new LinkedHashSet<>(Arrays.asList(hosts));
        set.forEach(h -> Objects.requireNonNull(h, "host"));
        return with(members, clusterName, authKey, retries, taskTimeout, connectTimeout, memberWaitTimeout, prefetch,
                maxInFlight, Set.copyOf(set), allowedPackages);
    }

    /**
     * @param packages packages (exact, or {@code com.example.**} with sub-packages) whose classes the
     *                 members may deserialize from tasks, beyond the JDK's value and collection types and
     *                 {@code io.multiproc4j}; the classes of your functions and inputs belong here
     * @return a changed copy
     */
    public ClusterConfig allowPackages(String... packages) {
        Set<String> set = new LinkedHashSet<>(allowedPackages);
        for (String p : packages) {
            if (p == null || !p.matches("[A-Za-z_$][A-Za-z0-9_$]*(\\.[A-Za-z_$][A-Za-z0-9_$]*)*(\\.\\*\\*?)?")) {
                throw new IllegalArgumentException("'" + p + "' is not a package name (write com.example, or com.example.** for sub-packages too)");
            }
            set.add(p);
        }
        return with(members, clusterName, authKey, retries, taskTimeout, connectTimeout, memberWaitTimeout, prefetch,
                maxInFlight, allowedHosts, Set.copyOf(set));
    }

    private static Duration positive(String name, Duration d) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, was " + d);
        }
        return d;
    }

    /** @return the member addresses, {@code host:port} */
    public List<String> members() {
        return members;
    }

    /** @return the cluster name as the user gave it */
    public String clusterName() {
        return clusterName;
    }

    /** @return a copy of the key, or {@code null} when none was set */
    public byte[] authKey() {
        return authKey == null ? null : authKey.clone();
    }

    /** @return how many times a lost chunk runs again */
    public int retries() {
        return retries;
    }

    /** @return the task timeout, or {@code null} for none */
    public Duration taskTimeout() {
        return taskTimeout;
    }

    /** @return how long {@code connect} tries */
    public Duration connectTimeout() {
        return connectTimeout;
    }

    /** @return how long chunks wait for a member */
    public Duration memberWaitTimeout() {
        return memberWaitTimeout;
    }

    /** @return chunks a member holds beyond its worker count */
    public int prefetch() {
        return prefetch;
    }

    /** @return the most chunks in flight at once */
    public int maxInFlight() {
        return maxInFlight;
    }

    /** @return the hosts whose members get work: the given ones, or those of {@link #members()} */
    public Set<String> allowedMemberHosts() {
        if (!allowedHosts.isEmpty()) {
            return allowedHosts;
        }
        Set<String> hosts = new LinkedHashSet<>();
        for (String m : members) {
            hosts.add(m.substring(0, m.lastIndexOf(':')));
        }
        return Set.copyOf(hosts);
    }

    /** @return packages members may deserialize beyond the defaults */
    public Set<String> allowedPackages() {
        return allowedPackages;
    }

    /** @throws IllegalStateException when no key was set */
    byte[] requireKey() {
        if (authKey == null) {
            throw new IllegalStateException("the config has no key: call authKey(bytes) with the members' key "
                    + "(the key file given to 'multiproc worker --key-file')");
        }
        return authKey.clone();
    }

    @Override
    public String toString() {
        return "ClusterConfig[members=" + members + ", clusterName=" + clusterName + ", key=" + (authKey == null ? "none" : "set")
                + ", retries=" + retries + "]";
    }
}
