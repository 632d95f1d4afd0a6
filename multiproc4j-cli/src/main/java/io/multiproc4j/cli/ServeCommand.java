package io.multiproc4j.cli;

import com.sun.net.httpserver.HttpHandler;
import io.multiproc4j.server.PortSharing;
import io.multiproc4j.server.ServerApp;
import io.multiproc4j.server.ServerStartException;
import io.multiproc4j.server.Supervisor;
import io.multiproc4j.server.WorkerInfo;
import io.multiproc4j.server.WorkerModel;
import java.io.File;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code multiproc serve}: runs a {@link Supervisor} in this JVM until it is stopped, with the signals
 * gunicorn users expect: HUP rolling reload, TERM or INT graceful stop (a second one stops at once),
 * TTIN one worker more, TTOU one fewer. SIGQUIT is the JVM's own (it prints a thread dump, useful on
 * a hung supervisor) and cannot be caught on HotSpot; the fast stop is the second TERM/INT.
 *
 * <p>While it runs it keeps a status file, {@code $TMPDIR/multiproc-serve-PORT.status}, rewritten on
 * every second: {@code multiproc serve --status PORT} (or {@code --status
 * PIDFILE}, given {@code --pid PIDFILE} at start) prints it.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs N worker JVMs of a server app behind one port (prefork, or --min/--max autoscaled).",
                "MAIN_OR_HANDLER is a com.sun.net.httpserver.HttpHandler (served over HTTP/1.1) or an "
                        + "io.multiproc4j.server.ServerApp (an accept loop of its own), loaded from -cp.",
                "Signals: HUP reload, TERM/INT graceful stop (twice: at once), TTIN/TTOU one worker more/less."})
final class ServeCommand implements Callable<Integer> {
    @ArgGroup(exclusive = true)
    Count count;

    static final class Count {
        @Option(names = "--workers", description = "Prefork this many workers.")
        Integer workers;

        @ArgGroup(exclusive = false)
        Range range;
    }

    static final class Range {
        @Option(names = "--min", required = true, description = "Workers kept when idle (0: on demand).")
        int min;

        @Option(names = "--max", required = true, description = "Workers at most, under load.")
        int max;
    }

    @Option(names = "--idle-timeout", description = "Seconds of low load before one worker is stopped (with --min/--max; default 10).")
    Double idleSeconds;

    @Option(names = "--port", description = "TCP port (0 picks a free one, printed).")
    Integer port;

    @Option(names = "--bind", defaultValue = "127.0.0.1", description = "Address to bind (default: ${DEFAULT-VALUE}).")
    String bind;

    @ArgGroup(exclusive = true)
    Sharing sharing;

    static final class Sharing {
        @Option(names = "--reuse-port", description = "Every worker accepts on a socket of its own (SO_REUSEPORT).")
        boolean reusePort;

        @Option(names = "--shared-socket", description = "One listening socket shared by every worker (the default).")
        boolean sharedSocket;

        @Option(names = "--acceptor", description = "This process accepts and hands requests to the workers.")
        boolean acceptor;
    }

    @Option(names = "--max-requests", defaultValue = "0", description = "Recycle a worker after this many requests (0: never).")
    long maxRequests;

    @Option(names = "--threads", defaultValue = "0",
            description = "Requests one worker runs at once (0, the default: no limit, virtual threads; 1: like gunicorn's sync worker).")
    int threads;

    @Option(names = "--timeout", defaultValue = "30", description = "Seconds a worker may miss its heartbeat before it is killed (default: ${DEFAULT-VALUE}).")
    double timeoutSeconds;

    @Option(names = {"-cp", "--class-path"}, description = "The app's jars and directories, separated by ':' (the platform's path separator).")
    String classPath;

    @Option(names = "--jvm-option", description = "An option for every worker JVM (repeatable), e.g. --jvm-option=-Xmx256m.")
    List<String> jvmOptions = new ArrayList<>();

    @Option(names = "--pid", description = "Write this process's pid and port to this file (for --status PIDFILE).")
    Path pidFile;

    @Option(names = "--status", paramLabel = "PORT|PIDFILE", description = "Print the workers of a running serve and exit.")
    String status;

    @Parameters(arity = "0..1", paramLabel = "MAIN_OR_HANDLER", description = "The app's class.")
    String mainClass;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (status != null) {
            return printStatus(status);
        }
        if (mainClass == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "give the app's class (MAIN_OR_HANDLER)");
        }
        if (port == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "give --port (0 picks a free one)");
        }
        List<Path> cp = new ArrayList<>();
        if (classPath != null) {
            for (String entry : classPath.split(File.pathSeparator)) {
                if (!entry.isBlank()) {
                    cp.add(Path.of(entry));
                }
            }
        }
        Supervisor.Builder builder = Supervisor.builder();
        try {
            builder.classPath(cp).port(port).bindAddress(bind).sharing(sharing()).model(model())
                    .maxRequestsPerWorker(maxRequests).threadsPerWorker(threads)
                    .workerTimeout(Duration.ofMillis((long) (timeoutSeconds * 1000))).jvmOptions(jvmOptions);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        if (isHandler(cp)) {
            builder.http(mainClass);
        } else {
            builder.app(mainClass);
        }
        builder.log(line -> System.err.println(Instant.now() + " multiproc serve: " + line));
        Supervisor server;
        try {
            server = builder.start();
        } catch (ServerStartException e) {
            throw new UserError(e.getMessage().lines().findFirst().orElse("cannot start"));
        }
        Path statusFile = statusFile(server.port());
        var stopped = new CountDownLatch(1);
        var stopping = new AtomicBoolean();
        Runnable stop = () -> {
            if (stopping.compareAndSet(false, true)) {
                Thread.ofPlatform().name("multiproc-serve-stop").start(() -> {
                    server.close();
                    stopped.countDown();
                });
            } else {
                System.err.println(Instant.now() + " multiproc serve: stopping now (second signal)");
                server.shutdownNow();
                stopped.countDown();
            }
        };
        handle("HUP", () -> Thread.ofVirtual().start(() -> {
            try {
                server.reload();
            } catch (RuntimeException e) {
                System.err.println(Instant.now() + " multiproc serve: " + e.getMessage().lines().findFirst().orElse(""));
            }
        }));
        handle("TERM", stop);
        handle("INT", stop);
        handle("TTIN", () -> scale(server, +1));
        handle("TTOU", () -> scale(server, -1));
        if (pidFile != null) {
            Files.writeString(pidFile, ProcessHandle.current().pid() + "\n" + server.port() + "\n");
        }
        try {
            writeStatus(statusFile, server);
            while (!stopped.await(1, java.util.concurrent.TimeUnit.SECONDS)) {
                writeStatus(statusFile, server);
            }
        } finally {
            Files.deleteIfExists(statusFile);
            if (pidFile != null) {
                Files.deleteIfExists(pidFile);
            }
        }
        return 0;
    }

    private static void scale(Supervisor server, int delta) {
        try {
            server.scale(delta);
        } catch (IllegalStateException e) {
            // stopping: nothing to scale
        }
    }

    /** The signals HotSpot leaves ignored when they were ignored at its start (its shutdown signals). */
    private static final java.util.Set<String> VM_KEEPS_IGNORED = java.util.Set.of("HUP", "INT", "TERM");

    /**
     * Installs a handler with {@code sun.misc.Signal} (module jdk.unsupported, supported on JDK 25),
     * looked up reflectively: javac has no way to silence its "proprietary API" warning under -Werror.
     */
    private static void handle(String signal, Runnable action) {
        try {
            Class<?> signalClass = Class.forName("sun.misc.Signal");
            Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
            Object sig = signalClass.getConstructor(String.class).newInstance(signal);
            Object handler = java.lang.reflect.Proxy.newProxyInstance(handlerClass.getClassLoader(),
                    new Class<?>[] {handlerClass}, (proxy, method, args) -> switch (method.getName()) {
                        case "handle" -> {
                            action.run();
                            yield null;
                        }
                        case "hashCode" -> System.identityHashCode(proxy);
                        case "equals" -> proxy == args[0];
                        default -> "multiproc serve SIG" + signal + " handler";
                    });
            Object previous = signalClass.getMethod("handle", signalClass, handlerClass).invoke(null, sig, handler);
            if (previous == handlerClass.getField("SIG_IGN").get(null) && VM_KEEPS_IGNORED.contains(signal)) {
                // HotSpot keeps HUP, INT and TERM ignored when they were ignored at its start (nohup,
                // a shell's background job): the handler is registered and never called. Say so now,
                // rather than let a HUP that reloads nothing look like a hung reload.
                System.err.println(Instant.now() + " multiproc serve: warning: SIG" + signal + " was ignored when this JVM "
                        + "started (nohup, or a background job of a shell), so it does nothing here: start serve with it "
                        + "not ignored, e.g. env --default-signal=" + signal + " multiproc serve ...");
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            Throwable cause = e instanceof java.lang.reflect.InvocationTargetException ite ? ite.getCause() : e;
            System.err.println("multiproc serve: warning: SIG" + signal + " cannot be handled here (" + cause.getMessage() + ")");
        }
    }

    private PortSharing sharing() {
        if (sharing == null || sharing.sharedSocket) {
            return PortSharing.SHARED_SOCKET;
        }
        return sharing.reusePort ? PortSharing.REUSE_PORT : PortSharing.ACCEPTOR;
    }

    private WorkerModel model() {
        if (count == null || count.workers != null) {
            return WorkerModel.prefork(count == null ? Runtime.getRuntime().availableProcessors() : count.workers);
        }
        Duration idle = idleSeconds == null ? WorkerModel.DEFAULT_IDLE : Duration.ofMillis((long) (idleSeconds * 1000));
        return WorkerModel.hybrid(count.range.min, count.range.max, idle);
    }

    /** Decides http() or app() by the class's interface, without running anything of it. */
    private boolean isHandler(List<Path> cp) {
        List<URL> urls = new ArrayList<>();
        for (Path p : cp) {
            try {
                urls.add(p.toUri().toURL());
            } catch (IOException e) {
                throw new UserError("bad class path entry " + p + ": " + e.getMessage());
            }
        }
        try (var loader = new URLClassLoader(urls.toArray(URL[]::new), ServeCommand.class.getClassLoader())) {
            Class<?> type = Class.forName(mainClass, false, loader);
            if (HttpHandler.class.isAssignableFrom(type)) {
                return true;
            }
            if (ServerApp.class.isAssignableFrom(type)) {
                return false;
            }
            throw new UserError(mainClass + " is neither a com.sun.net.httpserver.HttpHandler nor an "
                    + "io.multiproc4j.server.ServerApp: implement one of them");
        } catch (ClassNotFoundException | LinkageError e) {
            throw new UserError("class " + mainClass + " not found"
                    + (cp.isEmpty() ? " (give the app's jar with -cp)" : " in " + classPath) + ": " + e.getMessage());
        } catch (IOException e) {
            throw new UserError("cannot read the class path " + classPath + ": " + e.getMessage());
        }
    }

    static Path statusFile(int port) {
        return Path.of(System.getProperty("java.io.tmpdir"), "multiproc-serve-" + port + ".status");
    }

    private static void writeStatus(Path file, Supervisor server) throws IOException {
        var sb = new StringBuilder();
        sb.append("multiproc serve, pid ").append(ProcessHandle.current().pid()).append(", port ").append(server.port())
                .append(", ").append(server.sharing()).append(", target ").append(server.targetWorkers())
                .append(" worker(s), at ").append(Instant.now()).append('\n');
        sb.append(String.format("%-11s %8s %-9s %9s %-24s %5s %8s  %s%n", "WORKER", "PID", "STATE", "REQUESTS",
                "STARTED", "SLOT", "RESTARTS", "LAST RESTART"));
        for (WorkerInfo w : server.workers()) {
            sb.append(String.format("%-11s %8d %-9s %9d %-24s %5d %8d  %s%n", w.name(), w.pid(), w.state(),
                    w.requestsServed(), w.started().toString().replaceAll("\\.\\d+Z$", "Z"), w.slot(), w.restarts(),
                    w.lastRestart() == null ? "-" : w.lastRestart()));
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, sb.toString(), StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static int printStatus(String which) throws IOException {
        int port;
        if (which.matches("\\d+")) {
            port = Integer.parseInt(which);
        } else {
            Path pid = Path.of(which);
            if (!Files.isRegularFile(pid)) {
                throw new UserError(which + " is neither a port nor a pid file written by multiproc serve --pid");
            }
            List<String> lines = Files.readAllLines(pid);
            if (lines.size() < 2 || !lines.get(1).trim().matches("\\d+")) {
                throw new UserError(which + " is not a pid file written by multiproc serve --pid");
            }
            port = Integer.parseInt(lines.get(1).trim());
        }
        Path file = statusFile(port);
        if (!Files.exists(file)) {
            throw new UserError("no multiproc serve is running on port " + port + " (no " + file + ")");
        }
        String text = Files.readString(file);
        String pid = text.replaceFirst("(?s)^multiproc serve, pid (\\d+),.*", "$1");
        if (pid.matches("\\d+") && ProcessHandle.of(Long.parseLong(pid)).map(ProcessHandle::isAlive).orElse(false)) {
            System.out.print(text);
            return 0;
        }
        throw new UserError("the multiproc serve on port " + port + " (pid " + pid + ") is gone; its status file "
                + file + " is stale");
    }
}
