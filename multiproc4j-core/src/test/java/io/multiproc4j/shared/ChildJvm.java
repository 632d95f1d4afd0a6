package io.multiproc4j.shared;

import io.multiproc4j.internal.supervise.JvmCommand;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A helper JVM for tests ({@link ShmChild} with a mode), started with this JVM's class path. Its
 * stdout lines are queued so a test can wait for one with a deadline; {@link #close()} kills it
 * whatever happened.
 */
public final class ChildJvm implements AutoCloseable {
    private final Process process;
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> seen = new ArrayList<>();

    private ChildJvm(Process process) {
        this.process = process;
        Thread.ofVirtual().start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("EOF: " + e);
            }
            lines.add("EOF");
        });
    }

    /**
     * @param args the mode and its arguments for {@link ShmChild}
     * @return the started child
     * @throws IOException when it cannot start
     */
    public static ChildJvm start(String... args) throws IOException {
        List<String> command = new ArrayList<>(JvmCommand.forMain(List.of("-Xmx64m"), ShmChild.class.getName(), null));
        command.addAll(List.of(args));
        return new ChildJvm(new ProcessBuilder(command).redirectErrorStream(true).start());
    }

    /**
     * Waits for a line starting with {@code prefix}.
     *
     * @param prefix  what the line starts with
     * @param timeout the deadline
     * @return the line
     * @throws InterruptedException when interrupted
     * @throws AssertionError       when the child did not print it in time (with what it printed)
     */
    public String awaitLine(String prefix, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (;;) {
            String line = lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line == null || line.equals("EOF")) {
                throw new AssertionError("child did not print '" + prefix + "' within " + timeout + "; printed "
                        + seen + (line == null ? "" : " then exited"));
            }
            seen.add(line);
            if (line.startsWith(prefix)) {
                return line;
            }
        }
    }

    /**
     * Closes the child's stdin (children that wait for input go on).
     *
     * @throws IOException when it cannot be closed
     */
    public void closeInput() throws IOException {
        process.getOutputStream().close();
    }

    /** @return the child's pid */
    public long pid() {
        return process.pid();
    }

    /**
     * SIGKILLs the child and waits until it is reaped.
     *
     * @throws InterruptedException when interrupted
     */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            throw new AssertionError("child " + process.pid() + " survived SIGKILL for 10 s");
        }
    }

    /**
     * @param timeout the deadline
     * @return the exit code
     * @throws InterruptedException when interrupted
     */
    public int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("child " + process.pid() + " did not exit within " + timeout);
        }
        return process.exitValue();
    }

    /** Kills the child (if still running) and reaps it. */
    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
