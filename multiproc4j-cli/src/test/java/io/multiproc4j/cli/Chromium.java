package io.multiproc4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Finds a headless-capable Chromium on the PATH (installed by src/test/setup-chromium.sh). */
final class Chromium {
    private Chromium() {}

    /** @return the browser's path, or null when none is installed */
    static Path find() {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String name : List.of("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")) {
            for (String dir : path.split(java.io.File.pathSeparator)) {
                Path p = Path.of(dir, name);
                if (Files.isExecutable(p)) {
                    return p;
                }
            }
        }
        return null;
    }
}
