package io.multiproc4j.testkit;

import java.io.IOException;
import java.io.Serial;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CancellationException;
import java.util.concurrent.locks.LockSupport;

/**
 * A gate and markers in a directory, usable from tasks in any JVM of this machine (a task captures
 * the gate, which is serializable): a task {@linkplain #mark marks} that it started, waits until
 * the test {@linkplain #open opens} the gate, and marks what it did; the test waits on the markers
 * with {@link Conditions#await}. No test sleeps: what happened is read from the files.
 *
 * @param directory the directory (one per test, e.g. JUnit's {@code @TempDir})
 */
public record Gate(String directory) implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;
    /** A task that waits longer than this fails loudly instead of hanging the suite. */
    private static final long MAX_WAIT_NANOS = 120_000_000_000L;

    /**
     * @param directory the directory
     * @return a closed gate there
     */
    public static Gate in(Path directory) {
        return new Gate(directory.toString());
    }

    /** Opens the gate: every task waiting in {@link #awaitOpen()} goes on. */
    public void open() {
        mark("gate-open");
    }

    /**
     * Waits until the gate is open. Interruptible: an interrupted task stops with
     * {@link CancellationException} (what a cancelled task does), even when the gate opened after
     * the interrupt.
     *
     * @throws AssertionError if the gate stays closed for two minutes
     */
    public void awaitOpen() {
        long end = System.nanoTime() + MAX_WAIT_NANOS;
        Path open = Path.of(directory, "gate-open");
        while (true) {
            // The interrupt is read after the gate: a test that interrupts (cancels) and then opens
            // the gate must find the task stopped, however late this thread wakes up.
            boolean isOpen = Files.exists(open);
            if (Thread.currentThread().isInterrupted()) {
                throw new CancellationException("interrupted while waiting at the gate");
            }
            if (isOpen) {
                return;
            }
            if (System.nanoTime() - end > 0) {
                throw new AssertionError("the gate in " + directory + " stayed closed for two minutes");
            }
            LockSupport.parkNanos(1_000_000);
        }
    }

    /**
     * @param name a marker name
     */
    public void mark(String name) {
        try {
            Files.createFile(Path.of(directory, name));
        } catch (FileAlreadyExistsException e) {
            // marked twice: the same fact
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * @param name a marker name
     * @return whether it was marked
     */
    public boolean marked(String name) {
        return Files.exists(Path.of(directory, name));
    }
}
