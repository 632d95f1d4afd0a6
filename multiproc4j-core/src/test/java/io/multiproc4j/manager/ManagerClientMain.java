package io.multiproc4j.manager;

import io.multiproc4j.internal.manager.Addresses;
import java.util.HexFormat;

/**
 * A separate client JVM for the tests. The manager's address and key come in the environment
 * ({@value #ENV_ADDRESS}, {@value #ENV_KEY}), never on the command line.
 *
 * <ul>
 *   <li>{@code use}: merges into map "remote" 10 times, puts its pid on queue "remoteQueue", exits;</li>
 *   <li>{@code lock}: takes lock "held", prints {@code LOCKED}, then waits to be killed;</li>
 *   <li>{@code owner}: starts a manager of its own, prints {@code SERVER pid}, then waits to be killed;</li>
 *   <li>{@code proxy}: holds no key; deserializes the map proxy in file {@value #ENV_PROXY_FILE}, puts its
 *       pid under "child", prints {@code USED}, then waits in {@code take()} on queue "never" and prints
 *       {@code DISCONNECTED} with the exception when the manager cuts it off; any failure to use the
 *       bytes prints {@code FAILED class: message} and exits with 3.</li>
 * </ul>
 */
public final class ManagerClientMain {
    /** Environment variable with the manager's address. */
    public static final String ENV_ADDRESS = "MP4J_TEST_MANAGER";
    /** Environment variable with the key, hex. */
    public static final String ENV_KEY = "MP4J_TEST_KEY";
    /** Environment variable with the path of a serialized proxy. */
    public static final String ENV_PROXY_FILE = "MP4J_TEST_PROXY_FILE";

    private ManagerClientMain() {}

    /**
     * @param args the mode
     * @throws Exception on any failure: the test sees the exit code and output
     */
    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "use" -> {
                Manager client = connect();
                var map = client.<String, Integer>map("remote");
                for (int i = 0; i < 10; i++) {
                    map.merge("hits", 1, Integer::sum);
                }
                client.queue("remoteQueue").put("from " + ProcessHandle.current().pid());
                System.out.println("DONE");
            }
            case "lock" -> {
                connect().lock("held").lock();
                System.out.println("LOCKED");
                System.out.flush();
                System.in.read();  // killed by the test long before stdin closes
            }
            case "owner" -> {
                Manager own = Manager.start();
                System.out.println("SERVER " + own.serverProcess().orElseThrow().pid());
                System.out.flush();
                System.in.read();
            }
            case "proxy" -> {
                java.util.concurrent.ConcurrentMap<String, Long> map;
                java.util.concurrent.BlockingQueue<String> never;
                try (var in = new java.io.ObjectInputStream(java.nio.file.Files.newInputStream(
                        java.nio.file.Path.of(System.getenv(ENV_PROXY_FILE))))) {
                    @SuppressWarnings("unchecked")
                    var read = (java.util.List<Object>) in.readObject();
                    @SuppressWarnings("unchecked")
                    var m = (java.util.concurrent.ConcurrentMap<String, Long>) read.get(0);
                    @SuppressWarnings("unchecked")
                    var q = (java.util.concurrent.BlockingQueue<String>) read.get(1);
                    map = m;
                    never = q;
                    map.put("child", ProcessHandle.current().pid());
                } catch (Exception e) {
                    System.out.println("FAILED " + e.getClass().getName() + ": " + e.getMessage());
                    System.exit(3);
                    return;
                }
                System.out.println("USED");
                System.out.flush();
                try {
                    never.take();
                } catch (Exception e) {
                    System.out.println("DISCONNECTED " + e.getClass().getName() + ": " + e.getMessage());
                }
            }
            default -> throw new IllegalArgumentException(args[0]);
        }
        System.exit(0);
    }

    private static Manager connect() {
        return Manager.connect(Addresses.parse(System.getenv(ENV_ADDRESS)),
                HexFormat.of().parseHex(System.getenv(ENV_KEY)));
    }
}
