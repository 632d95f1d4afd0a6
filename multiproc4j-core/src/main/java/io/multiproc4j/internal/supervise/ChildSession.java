package io.multiproc4j.internal.supervise;

import io.multiproc4j.internal.supervise.WorkerProcess.LaunchSpec;
import io.multiproc4j.internal.transport.FrameChannel;
import io.multiproc4j.internal.transport.FrameChannel.Frame;
import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One supervised child JVM that is configured once and then runs until its owner lets it go: the
 * manager's server JVM. Built on {@link Supervisor}: the same spawn, key, handshake, start timeout,
 * lifeline and exit cause as a pool's workers.
 *
 * <pre>
 *  start ─► spawn ─► HELLO ─► config frame (the caller's code and bytes) ─► ready frame (its code, bytes)
 *        ─► READY: the connection stays open as the lifeline
 *  close ─► channel closed (the child sees EOF, stops and exits) ─► wait for the exit; kill after the grace
 * </pre>
 */
public final class ChildSession implements Closeable {
    private final Supervisor supervisor;
    private final WorkerProcess child;
    private final FrameChannel channel;
    private final byte[] readyPayload;

    private ChildSession(Supervisor supervisor, WorkerProcess child, FrameChannel channel, byte[] readyPayload) {
        this.supervisor = supervisor;
        this.child = child;
        this.channel = channel;
        this.readyPayload = readyPayload;
    }

    /** The child could not be started or did not get ready; the message says why, with its output. */
    public static final class StartFailedException extends IOException {
        private static final long serialVersionUID = 1L;

        StartFailedException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Starts the child and waits until it is ready.
     *
     * @param spec         what to start
     * @param startTimeout how long it may take to be ready
     * @param configCode   the code of the frame that configures it
     * @param config       that frame's payload (secrets may go here: never on the command line)
     * @param readyCode    the code of the frame it answers with once ready
     * @return the session, READY; {@link #readyPayload()} is what the child answered
     * @throws StartFailedException when it does not get ready (exit, timeout, a wrong answer)
     * @throws InterruptedException when interrupted while waiting (the child is killed)
     */
    public static ChildSession start(LaunchSpec spec, Duration startTimeout, int configCode, byte[] config,
                                     int readyCode) throws StartFailedException, InterruptedException {
        var ready = new CompletableFuture<ChildSession>();
        Supervisor[] self = new Supervisor[1];
        Supervisor supervisor = Supervisor.open(new Supervisor.Listener() {
            @Override
            public void connected(WorkerProcess child, FrameChannel channel) {
                try {
                    channel.sendCode(configCode, config);
                    Frame answer = channel.receive();
                    if (answer.code() != readyCode) {
                        throw new IOException("it answered with frame code " + answer.code() + ", not " + readyCode);
                    }
                    if (!child.moveTo(WorkerProcess.State.READY)) {
                        throw new IOException("it was no longer starting (its start timed out, or it exited)");
                    }
                    if (!ready.complete(new ChildSession(self[0], child, channel, answer.payload()))) {
                        return; // the owner gave up waiting: closing the channel ends the child
                    }
                    while (true) {
                        channel.receive(); // the lifeline: nothing more is expected; returns at EOF
                    }
                } catch (IOException | RuntimeException e) {
                    ready.completeExceptionally(e);
                }
            }

            @Override
            public void exited(WorkerProcess child, Supervisor.Exit exit) {
                ready.completeExceptionally(new IllegalStateException("its JVM exited with code " + exit.exitCode()
                        + " (" + exit.cause() + ") before it was ready"));
                self[0].close();
            }
        });
        self[0] = supervisor;
        WorkerProcess child;
        try {
            child = supervisor.spawn(spec, startTimeout);
        } catch (RuntimeException e) {
            supervisor.close();
            throw new StartFailedException("cannot start its JVM: " + e.getMessage(), e);
        }
        try {
            return ready.get(startTimeout.toMillis() + 5_000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException | InterruptedException e) {
            child.kill(ExitCause.START_FAILED);
            supervisor.close();
            if (e instanceof InterruptedException ie) {
                throw ie;
            }
            Throwable why = e instanceof ExecutionException ? e.getCause() : e;
            waitForExit(child, Duration.ofSeconds(2));
            String output = String.join("\n", child.outputTail());
            throw new StartFailedException(why.getMessage() + (output.isEmpty() ? "" : "; its output:\n" + output), why);
        }
    }

    /** @return what the child answered once ready */
    public byte[] readyPayload() {
        return readyPayload.clone();
    }

    /** @return the child */
    public WorkerProcess child() {
        return child;
    }

    /**
     * Lets the child go: closes its lifeline (it stops and exits), waits for it, kills it after the grace.
     *
     * @param grace how long it may take to exit
     */
    public void close(Duration grace) {
        child.expectExit(ExitCause.SHUTDOWN);
        try {
            channel.close();
        } catch (IOException e) {
            // closed already
        }
        if (!waitForExit(child, grace)) {
            child.kill(ExitCause.KILLED);
            waitForExit(child, grace);
        }
        supervisor.close();
    }

    /** Closes with a grace of five seconds. */
    @Override
    public void close() {
        close(Duration.ofSeconds(5));
    }

    private static boolean waitForExit(WorkerProcess child, Duration timeout) {
        try {
            return child.process().waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            child.kill(ExitCause.KILLED);
            return false;
        }
    }
}
