package io.multiproc4j.cluster.internal;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.Serial;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A class every member allows ({@code io.multiproc4j.**}): when a member JVM deserializes one, its
 * {@code readObject} creates the file it names. Sent where nothing may be decoded (a task whose MAC
 * does not check out), its file proves whether the member decoded it anyway.
 */
final class AllowedMarker implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;
    private final String file;

    AllowedMarker(Path file) {
        this.file = file.toString();
    }

    @Serial
    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        Files.writeString(Path.of(file), "deserialized in pid " + ProcessHandle.current().pid());
    }
}
