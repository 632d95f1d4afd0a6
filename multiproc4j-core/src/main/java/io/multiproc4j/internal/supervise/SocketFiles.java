package io.multiproc4j.internal.supervise;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The private directories that hold pools' sockets: {@code $TMPDIR/multiproc4j-<pid>-<random>},
 * readable by this user only. A pool removes its own when it terminates; a pool whose JVM crashed
 * leaves one behind, which the next pool to start removes (its pid is no longer alive).
 */
final class SocketFiles {
    private static final String PREFIX = "multiproc4j-";

    private SocketFiles() {}

    static Path createPrivateDirectory() throws IOException {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        return Files.createTempDirectory(tmp, PREFIX + ProcessHandle.current().pid() + "-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }

    /** Removes directories left by pools whose JVM is gone. Best effort: never fails a start. */
    static void removeLeftovers() {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(tmp, PREFIX + "*")) {
            for (Path dir : dirs) {
                String[] parts = dir.getFileName().toString().split("-");
                if (parts.length < 3) {
                    continue;
                }
                try {
                    long pid = Long.parseLong(parts[1]);
                    if (ProcessHandle.of(pid).isEmpty()) {
                        delete(dir);
                    }
                } catch (NumberFormatException e) {
                    // not ours
                }
            }
        } catch (IOException | RuntimeException e) {
            // no temp directory listing: nothing to clean
        }
    }

    static void delete(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // best effort
                }
            });
        } catch (IOException | RuntimeException e) {
            // already gone
        }
    }
}
