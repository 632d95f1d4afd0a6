package io.multiproc4j.cluster.internal;

import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.ExecutorConfig;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The Hazelcast configuration of our members and clients, in one place: explicit TCP-IP members,
 * no multicast or auto-detection, bound to the given interface only, no phone-home, quick join and
 * failure detection, and our envelopes registered as data-serializable.
 */
public final class HazelcastSettings {
    /** The executor our chunks run on; its pool size is the member's capacity. */
    public static final String EXECUTOR = "multiproc4j";
    /** Member attribute: how many chunks the member runs at once. */
    public static final String CAPACITY = "multiproc4j.capacity";
    /** Member attribute: the member's proof that it holds the key ({@link Keys#memberProof}). */
    public static final String PROOF = "multiproc4j.proof";
    /** Member attribute: the member JVM's pid. */
    public static final String PID = "multiproc4j.pid";

    /**
     * JVM options that keep Hazelcast quiet on JDK 25 (it reaches into these internals for
     * diagnostics and direct buffers); given to every member JVM we start.
     */
    public static final List<String> JVM_FLAGS = List.of("--add-modules", "java.se",
            "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
            "--add-opens", "java.base/java.lang=ALL-UNNAMED",
            "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-opens", "java.management/sun.management=ALL-UNNAMED",
            "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=allow",
            "--enable-native-access=ALL-UNNAMED");

    private static final AtomicInteger CLIENTS = new AtomicInteger();
    /** Held so the level sticks (loggers are weakly referenced). */
    private static final Logger HAZELCAST_LOG = Logger.getLogger("com.hazelcast");

    private HazelcastSettings() {}

    /**
     * @param clusterName  the derived Hazelcast cluster name
     * @param bind         the address to bind and announce
     * @param port         the port (no auto-increment)
     * @param join         the other members, {@code host:port}
     * @param capacity     chunks run at once
     * @param proof        this member's proof of the key
     * @return the member's config
     */
    public static Config member(String clusterName, String bind, int port, List<String> join, int capacity, String proof) {
        // members we start on loopback ourselves are quiet: they all stop at once, and each would warn about the others
        HAZELCAST_LOG.setLevel(Boolean.getBoolean("multiproc4j.cluster.quiet") ? Level.SEVERE : Level.WARNING);
        Config config = new Config();
        config.setClusterName(clusterName);
        config.setInstanceName("multiproc4j-member-" + bind + "-" + port);
        config.setProperty("hazelcast.logging.type", "jdk");
        config.setProperty("hazelcast.phone.home.enabled", "false");
        config.setProperty("hazelcast.wait.seconds.before.join", "0");
        config.setProperty("hazelcast.socket.bind.any", "false");
        config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
        config.setProperty("hazelcast.max.no.heartbeat.seconds", "10");
        config.setProperty("hazelcast.graceful.shutdown.max.wait", "15");
        config.setProperty("hazelcast.shutdownhook.enabled", "false");
        // a member that found nobody in time (a loaded machine) forms a cluster of its own; merge it soon
        config.setProperty("hazelcast.merge.first.run.delay.seconds", "5");
        config.setProperty("hazelcast.merge.next.run.delay.seconds", "5");
        NetworkConfig network = config.getNetworkConfig();
        network.setPort(port).setPortAutoIncrement(false).setPublicAddress(bind + ":" + port);
        network.getInterfaces().setEnabled(true).addInterface(bind);
        JoinConfig joinConfig = network.getJoin();
        joinConfig.getMulticastConfig().setEnabled(false);
        joinConfig.getAutoDetectionConfig().setEnabled(false);
        var tcp = joinConfig.getTcpIpConfig().setEnabled(true).setConnectionTimeoutSeconds(5);
        for (String member : join) {
            tcp.addMember(member);
        }
        tcp.addMember(bind + ":" + port);
        config.addExecutorConfig(new ExecutorConfig(EXECUTOR).setPoolSize(capacity).setStatisticsEnabled(false));
        config.getSerializationConfig().addDataSerializableFactory(Wire.FACTORY_ID, Wire.factory());
        config.getMemberAttributeConfig().setAttribute(CAPACITY, Integer.toString(capacity));
        config.getMemberAttributeConfig().setAttribute(PROOF, proof);
        config.getMemberAttributeConfig().setAttribute(PID, Long.toString(ProcessHandle.current().pid()));
        config.getJetConfig().setEnabled(false);
        return config;
    }

    /**
     * @param clusterName      the derived Hazelcast cluster name
     * @param members          addresses to try, {@code host:port}
     * @param connectTimeoutMs how long to keep trying before giving up
     * @return the client's config
     */
    public static ClientConfig client(String clusterName, List<String> members, long connectTimeoutMs) {
        ClientConfig config = new ClientConfig();
        config.setClusterName(clusterName);
        config.setInstanceName("multiproc4j-client-" + CLIENTS.incrementAndGet() + "-" + ProcessHandle.current().pid());
        config.setProperty("hazelcast.logging.type", "none");
        config.setProperty("hazelcast.phone.home.enabled", "false");
        config.setProperty("hazelcast.client.heartbeat.interval", "1000");
        config.setProperty("hazelcast.client.heartbeat.timeout", "10000");
        config.setProperty("hazelcast.client.statistics.enabled", "false");
        config.setProperty("hazelcast.shutdownhook.enabled", "false");
        config.getNetworkConfig().setAddresses(members).setConnectionTimeout(2000);
        var retry = config.getConnectionStrategyConfig().getConnectionRetryConfig();
        retry.setClusterConnectTimeoutMillis(connectTimeoutMs).setInitialBackoffMillis(100).setMaxBackoffMillis(1000);
        config.getSerializationConfig().addDataSerializableFactory(Wire.FACTORY_ID, Wire.factory());
        return config;
    }
}
