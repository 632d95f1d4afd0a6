package io.multiproc4j.internal.manager;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The private directories that hold started managers' sockets:
 * {@code $TMPDIR/mp4j-manager-<owner pid>-<random>}, mode 700. The owner removes its directory when
 * it closes the manager, and the manager JVM removes its socket file when it exits; when both were
 * killed at once (SIGKILL of the owner and of the manager, a machine's OOM killer) the directory is
 * left behind, and the next manager to start on this machine removes it: its owner's pid is no
 * longer alive. A recycled pid only delays the removal; a live owner's directory is never touched.
 */
public final class ManagerDirectories {
    static final String PREFIX = "mp4j-manager-";

    private ManagerDirectories() {}

    /**
     * @return a new private directory for one manager's socket, named after this (owner) JVM's pid
     * @throws IOException when the temporary directory cannot be written
     */
    public static Path createPrivate() throws IOException {
        return Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")),
                PREFIX + ProcessHandle.current().pid() + "-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }

    /** Removes directories whose owner JVM is gone. Best effort: never fails a start. */
    public static void removeLeftovers() {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(tmp, PREFIX + "*")) {
            for (Path dir : dirs) {
                String rest = dir.getFileName().toString().substring(PREFIX.length());
                int dash = rest.indexOf('-');
                if (dash <= 0) {
                    continue;  // an older layout without the owner's pid, or not ours: left alone
                }
                try {
                    long owner = Long.parseLong(rest.substring(0, dash));
                    if (ProcessHandle.of(owner).isEmpty() && Files.isDirectory(dir)) {
                        delete(dir);
                    }
                } catch (NumberFormatException e) {
                    // not ours
                }
            }
        } catch (IOException | RuntimeException e) {
            // no listing of the temporary directory: nothing to clean
        }
    }

    private static void delete(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // best effort (another user's directory, removed meanwhile)
                }
            });
        } catch (IOException | RuntimeException e) {
            // already gone
        }
    }
}
