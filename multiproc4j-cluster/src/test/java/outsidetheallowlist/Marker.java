package outsidetheallowlist;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.Serial;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A class in a package no member allows (not the JDK's, not {@code io.multiproc4j}): when a member
 * JVM deserializes one, its {@code readObject} creates the file it names, so the test JVM can see
 * that it happened in another process.
 */
public final class Marker implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;
    private final String file;

    /** @param file the file to create when this is deserialized */
    public Marker(Path file) {
        this.file = file.toString();
    }

    @Serial
    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        Files.writeString(Path.of(file), "deserialized in pid " + ProcessHandle.current().pid());
    }
}
