package io.multiproc4j.cluster.internal;

import io.multiproc4j.cluster.ClusterWorker;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The main class of member JVMs that we start ourselves: {@link io.multiproc4j.cluster.LocalCluster}
 * on this machine, and {@code multiproc launch} over SSH.
 *
 * <pre>
 *   --join H:P,H:P --cluster NAME --key-file FILE|- --bind ADDR --port P [--threads N | --processes N]
 *   [--await-others]   (print ready only once the member sees another: it joined a running cluster)
 * </pre>
 *
 * With {@code --key-file -} the key comes as one hex line on standard input, and standard input
 * stays the member's lifeline: when it closes (the parent died, or the SSH session ended) the
 * member stops. It prints {@code ready HOST:PORT} once it runs and
 * {@code stopped chunks=N refused=M} when it stops.
 */
public final class WorkerMain {
    private WorkerMain() {}

    /**
     * @param args as above
     * @throws Exception when the member cannot start
     */
    public static void main(String[] args) throws Exception {
        List<String> join = new ArrayList<>();
        String cluster = "multiproc4j";
        String keyFile = null;
        String bind = "127.0.0.1";
        int port = 5701;
        int capacity = Runtime.getRuntime().availableProcessors();
        boolean processes = false;
        String rawName = null;
        boolean awaitOthers = false;
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--join" -> {
                    for (String a : value.split(",")) {
                        if (!a.isBlank()) {
                            join.add(a.strip());
                        }
                    }
                }
                case "--cluster" -> cluster = value;
                case "--key-file" -> keyFile = value;
                case "--bind" -> bind = value;
                case "--port" -> port = Integer.parseInt(value);
                case "--threads" -> capacity = Integer.parseInt(value);
                case "--processes" -> {
                    capacity = Integer.parseInt(value);
                    processes = true;
                }
                case "--hazelcast-cluster-name" -> rawName = value;
                case "--await-others" -> {
                    awaitOthers = true;
                    i--;
                }
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
            i++;
        }
        if (keyFile == null) {
            throw new IllegalArgumentException("--key-file FILE (or - for one hex line on standard input) is required");
        }
        BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        byte[] key;
        if (keyFile.equals("-")) {
            String line = stdin.readLine();
            if (line == null) {
                throw new IllegalStateException("standard input closed before the key arrived");
            }
            key = HexFormat.of().parseHex(line.strip());
        } else {
            key = Files.readAllBytes(Path.of(keyFile));
        }
        ClusterWorker worker = Members.start(join, cluster, key, bind, port, capacity, processes, rawName);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(worker), "multiproc4j-cluster-worker-stop"));
        if (awaitOthers) {
            // joining a running cluster: "ready" means joined, not alone (split clusters merge within seconds)
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(120);
            while (worker.clusterSize() < 2 && System.nanoTime() - deadline < 0) {
                java.util.concurrent.locks.LockSupport.parkNanos(50_000_000);
            }
        }
        System.out.println("ready " + worker.address());
        System.out.flush();
        if (keyFile.equals("-")) {
            try {
                while (stdin.read() >= 0) {
                    // the lifeline carries nothing else
                }
            } catch (IOException e) {
                // closed: same as EOF
            }
            stop(worker);
            System.exit(0);
        } else {
            worker.awaitStop();
        }
    }

    private static synchronized void stop(ClusterWorker worker) {
        long run = worker.chunksRun();
        long refused = worker.chunksRefused();
        worker.close();
        System.out.println("stopped chunks=" + run + " refused=" + refused);
        System.out.flush();
    }
}
