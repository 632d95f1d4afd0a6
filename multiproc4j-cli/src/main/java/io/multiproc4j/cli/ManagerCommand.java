package io.multiproc4j.cli;

import io.multiproc4j.manager.Manager;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code multiproc manager}: serves a manager from this JVM until it is stopped (SIGTERM or Ctrl-C).
 * Clients connect with {@code Manager.connect(address, key)} and the same key.
 */
@Command(name = "manager", mixinStandardHelpOptions = true,
        description = "Serves shared objects (maps, lists, queues, locks, ...) to local and remote clients, "
                + "who prove the key in the key file. Listens on loopback unless --address says otherwise.")
final class ManagerCommand implements Callable<Integer> {
    private static final int MIN_KEY_BYTES = 16;

    @Option(names = "--port", required = true, description = "TCP port; 0 picks a free one (printed).")
    int port;

    @Option(names = "--key-file", required = true,
            description = "File whose bytes are the shared key, at least 16 (e.g. head -c 32 /dev/urandom > key).")
    Path keyFile;

    @Option(names = "--address", defaultValue = "127.0.0.1",
            description = "Address to listen on (default: ${DEFAULT-VALUE}); 0.0.0.0 for every interface.")
    String address;

    @Option(names = "--allow-package", description = "A package whose classes clients may send (repeatable).")
    List<String> allowPackages = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65_535) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                    "--port must be between 0 and 65535, was " + port);
        }
        byte[] key = readKey(keyFile);
        Manager manager = Manager.builder().allowPackages(allowPackages.toArray(String[]::new))
                .serve(new InetSocketAddress(address, port), key);
        var stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            manager.close();
            stopped.countDown();
        }, "multiproc-manager-shutdown"));
        System.out.println("multiproc manager: serving on " + manager.address() + " (stop with Ctrl-C or SIGTERM)");
        System.out.flush();
        stopped.await();
        return 0;
    }

    private static byte[] readKey(Path file) {
        byte[] key;
        try {
            key = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UserError("cannot read the key file " + file + ": " + e.getMessage());
        }
        if (key.length < MIN_KEY_BYTES) {
            throw new UserError("the key file " + file + " holds " + key.length + " bytes; a key needs at least "
                    + MIN_KEY_BYTES + " (make one with: head -c 32 /dev/urandom > " + file + ")");
        }
        try {
            Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file);
            if (permissions.contains(PosixFilePermission.OTHERS_READ) || permissions.contains(PosixFilePermission.GROUP_READ)) {
                System.err.println("multiproc manager: warning: other users can read " + file + " (chmod 600 it)");
            }
        } catch (IOException | UnsupportedOperationException e) {
            // not a POSIX file system: nothing to check
        }
        return key;
    }
}
