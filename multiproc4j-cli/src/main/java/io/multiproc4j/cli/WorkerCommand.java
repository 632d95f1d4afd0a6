package io.multiproc4j.cli;

import io.multiproc4j.cluster.ClusterWorker;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code multiproc worker}: runs a cluster worker member in this JVM until it is stopped (SIGTERM
 * or Ctrl-C). Clients connect with {@code ClusterPool.connect(config)} and the same key and name.
 */
@Command(name = "worker", mixinStandardHelpOptions = true,
        description = "Runs a cluster worker: a Hazelcast member that runs the chunks of ClusterPool clients holding "
                + "the same key. Listens on 127.0.0.1 unless --bind says otherwise; prints one 'ready' line once it runs.")
final class WorkerCommand implements Callable<Integer> {
    @Option(names = "--join", split = ",", paramLabel = "HOST:PORT",
            description = "Other members to join (comma-separated); none for the first member.")
    List<String> join = new ArrayList<>();

    @Option(names = "--cluster", defaultValue = "multiproc4j", description = "The cluster's name (default: ${DEFAULT-VALUE}).")
    String cluster;

    @Option(names = "--key-file", required = true,
            description = "File whose bytes are the shared key, at least 16 (e.g. head -c 32 /dev/urandom > key).")
    Path keyFile;

    @Option(names = "--class-path", split = ":", paramLabel = "CP",
            description = "The application's jars and class folders, where the tasks' classes are found.")
    List<Path> classPath = new ArrayList<>();

    @Option(names = "--bind", defaultValue = "127.0.0.1",
            description = "The only address to listen on (default: ${DEFAULT-VALUE}); an interface's IP address for other machines.")
    String bind;

    @Option(names = "--port", defaultValue = "5701", description = "The member port (default: ${DEFAULT-VALUE}).")
    int port;

    @ArgGroup(exclusive = true)
    Capacity capacity = new Capacity();

    static final class Capacity {
        @Option(names = "--threads", description = "Run chunks on this many threads (default: one per processor).")
        Integer threads;

        @Option(names = "--processes", description = "Run chunks on a local pool of this many worker JVMs, so a "
                + "crashing task kills a worker JVM, not the member.")
        Integer processes;
    }

    @Override
    public Integer call() throws Exception {
        if (port < 1 || port > 65_535) {
            throw new UserError("--port must be between 1 and 65535, was " + port);
        }
        boolean processes = capacity.processes != null;
        int n = processes ? capacity.processes
                : capacity.threads != null ? capacity.threads : Runtime.getRuntime().availableProcessors();
        if (n < 1) {
            throw new UserError("--" + (processes ? "processes" : "threads") + " must be >= 1, was " + n);
        }
        if (processes && !classPath.isEmpty()) {
            throw new UserError("--class-path works with --threads; with --processes put the application on this JVM's "
                    + "class path instead (its worker JVMs inherit it)");
        }
        byte[] key = readKey(keyFile);
        ClusterWorker worker;
        try {
            worker = processes ? ClusterWorker.start(join, cluster, key, bind, port, n, true)
                    : ClusterWorker.start(join, cluster, key, bind, port, n, classPath);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        Runtime.getRuntime().addShutdownHook(new Thread(worker::close, "multiproc-worker-shutdown"));
        System.out.println("ready " + worker.address() + " (cluster " + cluster + ", " + worker.clusterSize()
                + " member(s); stop with Ctrl-C or SIGTERM)");
        System.out.flush();
        worker.awaitStop();
        return 0;
    }

    private static byte[] readKey(Path file) {
        byte[] key;
        try {
            key = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UserError("cannot read the key file " + file + ": " + e.getMessage());
        }
        if (key.length < 16) {
            throw new UserError("the key file " + file + " holds " + key.length + " bytes; a key needs at least 16 "
                    + "(make one with: head -c 32 /dev/urandom > " + file + ")");
        }
        return key;
    }
}
