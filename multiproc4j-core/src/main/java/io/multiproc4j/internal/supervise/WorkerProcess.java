package io.multiproc4j.internal.supervise;

import io.multiproc4j.WorkerOutput;
import io.multiproc4j.WorkerRef;
import io.multiproc4j.internal.transport.FrameChannel;
import io.multiproc4j.internal.worker.WorkerMain;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;

/**
 * One worker JVM as its pool sees it: the process, its output pumps, the one-time key it must
 * prove, and (once it has connected) its frame channel.
 *
 * <p>States, driven by the engine: STARTING (spawned, not yet connected) → READY (connected,
 * initializer done, idle) ⇄ BUSY (holds batches) → RETIRING (gets no more work; exits when its
 * batches are done) → DEAD (the process has exited). Any state can go to DEAD.
 */
public final class WorkerProcess {
    /** Where a worker is in its life. */
    public enum State { STARTING, READY, BUSY, RETIRING, DEAD }

    private static final SecureRandom RANDOM = new SecureRandom();

    private final String name;
    private final String key;
    private final Process process;
    private final OutputPump stdout;
    private final OutputPump stderr;
    private volatile FrameChannel channel;

    private WorkerProcess(String name, String key, Process process, WorkerOutput output) {
        this.name = name;
        this.key = key;
        this.process = process;
        String prefix = "[" + name + "] ";
        this.stdout = new OutputPump(process.getInputStream(), System.out, output, prefix, name + "-stdout");
        this.stderr = new OutputPump(process.getErrorStream(), System.err, output, prefix, name + "-stderr");
    }

    /**
     * Starts a worker JVM. The socket path and key travel in its environment, never on its command
     * line, where any user of the machine could read them.
     *
     * @param name       the worker's name, such as {@code worker-3}
     * @param socket     the pool's socket
     * @param jvmOptions the user's options for the worker JVM
     * @param output     what to do with its output
     * @return the started worker
     */
    public static WorkerProcess spawn(String name, Path socket, List<String> jvmOptions, WorkerOutput output) {
        return spawn(name, socket, jvmOptions, output, WorkerMain.class);
    }

    /**
     * Starts a worker JVM that runs another main class with the same contract (socket path and key
     * in its environment, HELLO first): the server module's workers.
     *
     * @param name       the worker's name
     * @param socket     the supervisor's socket
     * @param jvmOptions the user's options for the worker JVM
     * @param output     what to do with its output
     * @param mainClass  the worker's main class
     * @return the started worker
     */
    public static WorkerProcess spawn(String name, Path socket, List<String> jvmOptions, WorkerOutput output,
                                      Class<?> mainClass) {
        byte[] keyBytes = new byte[32];
        RANDOM.nextBytes(keyBytes);
        String key = HexFormat.of().formatHex(keyBytes);
        Module module = mainClass.getModule();
        var builder = new ProcessBuilder(JvmCommand.forMain(jvmOptions, mainClass.getName(), module.isNamed() ? module.getName() : null));
        builder.environment().put(WorkerMain.ENV_SOCKET, socket.toString());
        builder.environment().put(WorkerMain.ENV_KEY, key);
        try {
            return new WorkerProcess(name, key, builder.start(), output);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start a worker JVM (" + builder.command().getFirst() + "): " + e.getMessage(), e);
        }
    }

    /** @return the worker's name */
    public String name() {
        return name;
    }

    /** @return the key it must prove, hex */
    public String key() {
        return key;
    }

    /** @return the OS process */
    public Process process() {
        return process;
    }

    /** @return its pid */
    public long pid() {
        return process.pid();
    }

    /** @return how tasks name this worker */
    public WorkerRef ref() {
        return new WorkerRef(name, process.pid());
    }

    /** @return its channel, or {@code null} before it connected */
    public FrameChannel channel() {
        return channel;
    }

    /** @param channel the channel it connected with */
    public void connected(FrameChannel channel) {
        this.channel = channel;
    }

    /** Kills the process (SIGKILL); its exit is then reported as usual. */
    public void kill() {
        process.destroyForcibly();
    }

    /**
     * @param waitMillis how long to wait for the stream to end
     * @return the last lines it wrote to standard error
     */
    public List<String> stderrTail(long waitMillis) {
        return stderr.tailAfterExit(waitMillis);
    }

    /** Waits briefly for standard output to be copied, so nothing it printed is lost. */
    public void drainStdout() {
        stdout.tailAfterExit(200);
    }

    @Override
    public String toString() {
        return name + " (pid " + process.pid() + ")";
    }
}
