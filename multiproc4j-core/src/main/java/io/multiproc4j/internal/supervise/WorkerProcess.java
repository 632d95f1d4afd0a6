package io.multiproc4j.internal.supervise;

import io.multiproc4j.WorkerOutput;
import io.multiproc4j.WorkerRef;
import io.multiproc4j.internal.transport.FrameChannel;
import io.multiproc4j.internal.worker.WorkerMain;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One supervised child JVM: the process, its output pumps, the one-time key it must prove, its
 * state, and (once it has connected) its frame channel. Started by {@link Supervisor#spawn}; the
 * pool's workers and the manager's server JVM are both children of this kind.
 *
 * <h2>States</h2>
 * <pre>
 *   STARTING ──handshake done──► READY ◄──► BUSY ──► RETIRING ──► DEAD
 *      │                           │                   ▲           ▲
 *      │                           └───────────────────┘           │
 *      ├──────── start timeout ────────────────────────┘           │
 *      └──────────────── process exit (from any state) ────────────┘
 * </pre>
 * STARTING: spawned, not yet ready (handshake, initializer). READY: idle. BUSY: holds work.
 * RETIRING: gets no more work and exits once its work is done (recycled, idle, memory limit,
 * shutdown). DEAD: the process has exited; {@link #exitCause()} says why. Its owner moves it
 * through READY, BUSY and RETIRING ({@link #moveTo}); supervision alone moves it to DEAD, and
 * STARTING to RETIRING when the start times out ({@link #abandonStart}).
 *
 * <h2>Concurrency</h2>
 * Supervision's threads (exit, start timeout) change the state without the owner's lock, so each
 * move is one compare-and-set: a move that lost the race (the child died, or its start timed out,
 * between the owner's check and its move) returns {@code false} and changes nothing; it never
 * throws, so an owner's bookkeeping under its lock is never cut short.
 *
 * <h2>Exit cause</h2>
 * Whoever ends a child says why first ({@link #expectExit} before asking it to stop,
 * {@link #kill(ExitCause)} before killing it); the first reason given wins. An exit without one is
 * a start failure before READY and a crash after.
 */
public final class WorkerProcess {
    /** Where a child is in its life. */
    public enum State { STARTING, READY, BUSY, RETIRING, DEAD }

    /**
     * Environment variable holding the supervisor's socket: {@code tcp:127.0.0.1:<port>}, or the path
     * of a Unix-domain socket.
     */
    public static final String ENV_SOCKET = "MULTIPROC4J_SOCKET";
    /** Environment variable holding the one-time key, hex. */
    public static final String ENV_KEY = "MULTIPROC4J_KEY";
    /**
     * Environment variable holding the supervisor's one-time answer, hex: what the supervisor sends
     * back once the child's key matched, so that the child knows it reached the JVM that started it
     * (a loopback port, unlike a private directory, could have been taken by another process after
     * that JVM died). Optional for a Unix-domain socket, required for TCP.
     */
    public static final String ENV_ANSWER = "MULTIPROC4J_ANSWER";

    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * What to start.
     *
     * @param name       the child's name, such as {@code worker-3}; prefixes its output
     * @param mainClass  the class to run; it connects with {@link SupervisedChild#connect}
     * @param moduleName the module of {@code mainClass} when it runs as a named module, else null
     * @param jvmOptions the user's options for the child JVM
     * @param output     what to do with its output
     * @param environment more environment variables for it (never a secret on its command line)
     * @param tailLines  how many of its last output lines to keep, per stream, for reports
     */
    public record LaunchSpec(String name, String mainClass, String moduleName, List<String> jvmOptions,
                             WorkerOutput output, Map<String, String> environment, int tailLines) {
        /** Checks and copies the lists. */
        public LaunchSpec {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(mainClass, "mainClass");
            jvmOptions = List.copyOf(jvmOptions);
            Objects.requireNonNull(output, "output");
            environment = Map.copyOf(environment);
            if (tailLines < 1) {
                throw new IllegalArgumentException("tailLines must be at least 1, was " + tailLines);
            }
        }

        /**
         * @param lines how many of its last output lines to keep, per stream
         * @return this spec keeping that many
         */
        public LaunchSpec withTailLines(int lines) {
            return new LaunchSpec(name, mainClass, moduleName, jvmOptions, output, environment, lines);
        }

        /**
         * @param name       the child's name
         * @param main       its main class, run in its own module when that module is named
         * @param jvmOptions the user's JVM options
         * @param output     what to do with its output
         * @return the spec
         */
        public static LaunchSpec of(String name, Class<?> main, List<String> jvmOptions, WorkerOutput output) {
            Module module = main.getModule();
            return new LaunchSpec(name, main.getName(), module.isNamed() ? module.getName() : null, jvmOptions,
                    output, Map.of(), OutputPump.TAIL_LINES);
        }
    }

    private final String name;
    private final String key;
    private final byte[] answer;
    private final Process process;
    private final OutputPump stdout;
    private final OutputPump stderr;
    private final AtomicReference<ExitCause> intent = new AtomicReference<>();
    private final AtomicReference<State> state = new AtomicReference<>(State.STARTING);
    private volatile FrameChannel channel;
    private volatile Thread connectionThread;
    private volatile ExitCause exitCause;
    private volatile ExitCause retireCause;
    /*
     * Timers that name this child: cancelled once they can no longer matter (READY, exit), or each
     * would keep this object, its Process and its pumps reachable until it fires.
     */
    private volatile Future<?> startTimer;
    private volatile Future<?> graceTimer;

    private WorkerProcess(String name, String key, byte[] answer, Process process, WorkerOutput output, int tailLines) {
        this.name = name;
        this.key = key;
        this.answer = answer;
        this.process = process;
        String prefix = "[" + name + "] ";
        this.stdout = new OutputPump(process.getInputStream(), System.out, output, prefix, name + "-stdout", tailLines);
        this.stderr = new OutputPump(process.getErrorStream(), System.err, output, prefix, name + "-stderr", tailLines);
    }

    /**
     * Starts a child JVM that will connect to {@code socket}. The socket's address, key and answer travel in its
     * environment, never on its command line, where any user of the machine could read them. Use
     * {@link Supervisor#spawn}, which also watches the start and the exit.
     *
     * @param spec   what to start
     * @param socket the supervisor's socket, as {@link #ENV_SOCKET} holds it
     * @return the started child
     * @throws UncheckedIOException when the JVM cannot be started
     */
    static WorkerProcess spawn(LaunchSpec spec, String socket) {
        byte[] keyBytes = new byte[32];
        RANDOM.nextBytes(keyBytes);
        String key = HexFormat.of().formatHex(keyBytes);
        byte[] answer = new byte[32];
        RANDOM.nextBytes(answer);
        var builder = new ProcessBuilder(JvmCommand.forMain(spec.jvmOptions(), spec.mainClass(), spec.moduleName()));
        builder.environment().putAll(spec.environment());
        builder.environment().put(ENV_SOCKET, socket);
        builder.environment().put(ENV_KEY, key);
        builder.environment().put(ENV_ANSWER, HexFormat.of().formatHex(answer));
        try {
            return new WorkerProcess(spec.name(), key, answer, builder.start(), spec.output(), spec.tailLines());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start a JVM for " + spec.mainClass() + " ("
                    + builder.command().getFirst() + "): " + e.getMessage(), e);
        }
    }

    /**
     * The launch spec of a pool worker.
     *
     * @param name       the worker's name
     * @param jvmOptions the user's JVM options
     * @param output     what to do with its output
     * @return the spec
     */
    public static LaunchSpec poolWorker(String name, List<String> jvmOptions, WorkerOutput output) {
        return LaunchSpec.of(name, WorkerMain.class, jvmOptions, output);
    }

    /** @return the child's name */
    public String name() {
        return name;
    }

    /** @return what the supervisor proves itself with, once the child's key matched */
    byte[] answer() {
        return answer.clone();
    }

    /** @return the key it must prove, hex */
    String key() {
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

    /** @return its state */
    public State state() {
        return state.get();
    }

    /**
     * Moves it through its life as its owner sees it: STARTING → READY, READY ⇄ BUSY,
     * READY/BUSY → RETIRING. DEAD is supervision's alone.
     *
     * @param next the new state
     * @return {@code true} when it moved; {@code false} when its current state has no such move
     *     (it died, or its start timed out, since the caller looked), and nothing changed
     */
    public boolean moveTo(State next) {
        while (true) {
            State now = state.get();
            boolean allowed = switch (next) {
                case READY -> now == State.STARTING || now == State.BUSY;
                case BUSY -> now == State.READY;
                case RETIRING -> now == State.READY || now == State.BUSY;
                case STARTING, DEAD -> false;
            };
            if (!allowed) {
                return false;
            }
            if (state.compareAndSet(now, next)) {
                if (now == State.STARTING) {
                    cancel(startTimer);
                }
                return true;
            }
        }
    }

    /**
     * The start timed out: STARTING → RETIRING, so that a READY arriving now is refused rather
     * than a ready child being killed for a start timeout.
     *
     * @return {@code true} when it was still STARTING (the caller then kills it)
     */
    boolean abandonStart() {
        return state.compareAndSet(State.STARTING, State.RETIRING);
    }

    /** Supervision saw the process exit. */
    void died(ExitCause cause) {
        exitCause = cause;
        state.set(State.DEAD);
        cancel(startTimer);
        cancel(graceTimer);
    }

    /** @param timer its start timeout; cancelled at once if it is no longer STARTING */
    void startTimer(Future<?> timer) {
        startTimer = timer;
        if (state.get() != State.STARTING && state.get() != State.RETIRING) {
            cancel(timer); // READY (or DEAD) won the race with this call; RETIRING: the timeout itself
        }
    }

    /** @param timer the kill that ends its stop grace; cancelled at once if it is already DEAD */
    void graceTimer(Future<?> timer) {
        graceTimer = timer;
        if (state.get() == State.DEAD) {
            cancel(timer);
        }
    }

    private static void cancel(Future<?> timer) {
        if (timer != null) {
            timer.cancel(false);
        }
    }

    /** @return why it exited, or null while it lives */
    public ExitCause exitCause() {
        return exitCause;
    }

    /** @return why it was retired ({@link Crew#retire}), or null */
    public ExitCause retireCause() {
        return retireCause;
    }

    void retireCause(ExitCause cause) {
        retireCause = cause;
    }

    /** @return the reason given before it exits, or null if none was */
    public ExitCause intent() {
        return intent.get();
    }

    /**
     * Records why it is about to exit, before it is asked to (the first reason given wins).
     *
     * @param cause why
     * @return {@code true} when this was the first reason given
     */
    public boolean expectExit(ExitCause cause) {
        return intent.compareAndSet(null, cause);
    }

    /** @return its channel, or {@code null} before it connected */
    public FrameChannel channel() {
        return channel;
    }

    void connected(FrameChannel channel, Thread thread) {
        this.channel = channel;
        this.connectionThread = thread;
    }

    /** @return the thread that reads its connection, or null before it connected */
    Thread connectionThread() {
        return connectionThread;
    }

    /**
     * Kills the process (SIGKILL) for a reason; its exit is then reported as usual.
     *
     * @param cause why (ignored if a reason was given already)
     */
    public void kill(ExitCause cause) {
        expectExit(cause);
        process.destroyForcibly();
    }

    /**
     * @param waitMillis how long to wait for the stream to end
     * @return the last lines it wrote to standard error
     */
    public List<String> stderrTail(long waitMillis) {
        return stderr.tailAfterExit(waitMillis);
    }

    /** @return its last lines of standard output then of standard error so far, without waiting */
    public List<String> outputTail() {
        List<String> lines = new java.util.ArrayList<>(stdout.tail());
        lines.addAll(stderr.tail());
        return lines;
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
