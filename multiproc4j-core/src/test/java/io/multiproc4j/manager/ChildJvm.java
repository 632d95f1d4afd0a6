package io.multiproc4j.manager;

import io.multiproc4j.internal.supervise.JvmCommand;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** A {@link ManagerClientMain} JVM; {@link #close()} kills it whatever happened. */
final class ChildJvm implements AutoCloseable {
    final Process process;
    private final StringBuffer output = new StringBuffer();
    private final BufferedReader lines;

    ChildJvm(String mode, String address, byte[] key) throws IOException {
        this(mode, address == null ? java.util.Map.of() : java.util.Map.of(ManagerClientMain.ENV_ADDRESS, address,
                ManagerClientMain.ENV_KEY, HexFormat.of().formatHex(key)));
    }

    /** A child with exactly these extra environment variables (no key unless they hold one). */
    ChildJvm(String mode, java.util.Map<String, String> environment) throws IOException {
        var builder = new ProcessBuilder(JvmCommand.forMain(List.of(), ManagerClientMain.class.getName(), null));
        builder.redirectErrorStream(true);
        builder.environment().remove(ManagerClientMain.ENV_KEY);
        builder.environment().putAll(environment);
        builder.command().add(mode);
        process = builder.start();
        lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    /** Reads output lines until one matches, within 60 s; returns it. */
    String awaitLine(Predicate<String> match) throws Exception {
        var found = CompletableFuture.supplyAsync(() -> {
            try {
                for (String line; (line = lines.readLine()) != null; ) {
                    output.append(line).append('\n');
                    if (match.test(line)) {
                        return line;
                    }
                }
                throw new IllegalStateException("the child exited without the expected line; its output:\n" + output);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        return found.get(60, TimeUnit.SECONDS);
    }

    int awaitExit() throws Exception {
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the child did not exit in 60 s");
        }
        output.append(new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        return process.exitValue();
    }

    String output() {
        return output.toString();
    }

    @Override
    public void close() {
        try {
            process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
