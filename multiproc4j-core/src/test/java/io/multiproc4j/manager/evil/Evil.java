package io.multiproc4j.manager.evil;

import io.multiproc4j.SerializableBiFunction;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.Serial;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A class outside every allowlist whose static initializer and {@code readObject} leave a marker
 * file named after the JVM that ran them, in the directory named by the system property
 * {@value #MARKER_DIR}: proof of whether any of its code ran in a given process.
 */
public final class Evil implements Serializable {
    /** System property naming the marker directory. */
    public static final String MARKER_DIR = "multiproc4j.test.evilMarkers";
    @Serial
    private static final long serialVersionUID = 1L;

    static {
        mark("clinit");
    }

    /** A payload field. */
    public final String payload = "x";

    /** @return a serializable lambda written in this (undeclared) package */
    public static SerializableBiFunction<Integer, Integer, Integer> adder() {
        return (a, b) -> a + b;
    }

    @Serial
    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        mark("readObject");
    }

    private static void mark(String what) {
        String dir = System.getProperty(MARKER_DIR);
        if (dir == null) {
            return;
        }
        try {
            Files.writeString(Path.of(dir, what + "-" + ProcessHandle.current().pid()), what);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
