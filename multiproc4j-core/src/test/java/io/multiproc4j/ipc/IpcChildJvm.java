package io.multiproc4j.ipc;

import io.multiproc4j.internal.supervise.JvmCommand;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A helper JVM running {@link IpcChild}, started with this JVM's class path. Its stdout lines are
 * kept so a test can wait for one with a deadline; {@link #close()} kills it whatever happened.
 */
final class IpcChildJvm implements AutoCloseable {
    private final Process process;
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> all = Collections.synchronizedList(new ArrayList<>());
    private final Thread reader;

    private IpcChildJvm(Process process) {
        this.process = process;
        this.reader = Thread.ofVirtual().start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    all.add(line);
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("EOF: " + e);
            }
            lines.add("EOF");
        });
    }

    static IpcChildJvm start(String... args) throws IOException {
        List<String> command = new ArrayList<>(JvmCommand.forMain(List.of("-Xmx64m"), IpcChild.class.getName(), null));
        command.addAll(List.of(args));
        return new IpcChildJvm(new ProcessBuilder(command).redirectErrorStream(true).start());
    }

    /** Waits for a line starting with {@code prefix}; fails with everything printed so far. */
    String awaitLine(String prefix, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (;;) {
            String line = lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line == null || line.equals("EOF")) {
                throw new AssertionError("child did not print '" + prefix + "' within " + timeout + "; printed " + all);
            }
            if (line.startsWith(prefix)) {
                return line;
            }
        }
    }

    /** SIGKILLs the child, waits until it is reaped and its output is read, and returns every line it printed. */
    List<String> killAndCollect() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            throw new AssertionError("child " + process.pid() + " survived SIGKILL for 10 s");
        }
        if (!reader.join(Duration.ofSeconds(30))) {
            throw new AssertionError("the output of child " + process.pid() + " was not read to its end within 30 s");
        }
        return List.copyOf(all);
    }

    int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("child " + process.pid() + " did not exit within " + timeout + "; printed " + all);
        }
        return process.exitValue();
    }

    long pid() {
        return process.pid();
    }

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
