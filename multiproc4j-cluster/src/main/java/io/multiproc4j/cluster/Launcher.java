package io.multiproc4j.cluster;

import io.multiproc4j.cluster.internal.HazelcastSettings;
import io.multiproc4j.cluster.internal.WorkerMain;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * What {@code multiproc launch} does, as SCOOP does it: starts a worker member on each host over
 * SSH (the system {@code ssh}, in batch mode: keys or an agent, never a password prompt), waits
 * until every one has joined, runs the program with the members handed to it, and stops every
 * worker when the program ends, fails or is interrupted.
 *
 * <pre>
 *  hosts file ─► for each "host [workers] [user@]" line, at once:
 *                 ssh [user@]host 'exec java ... WorkerMain --key-file - ...'  (key on the session's stdin)
 *             ─► every worker prints "ready host:port"  (any ssh that ends first: one line, exit 1, stop the rest)
 *             ─► java -Dmultiproc4j.cluster.members=... JVM-ARGS   (key in a 0600 file named by the environment)
 *             ─► close every session's stdin: each worker stops; kill the ssh clients that do not end
 * </pre>
 *
 * The key is random per launch and travels only inside the SSH sessions, never on a command line.
 * Each worker's standard input is its lifeline: when the session ends, so does the worker, even if
 * this JVM is killed.
 */
public final class Launcher {
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(120);

    /**
     * One line of the hosts file.
     *
     * @param host    the host name or address
     * @param workers how many chunks its member runs at once
     * @param user    the SSH user, or {@code null} for ssh's default
     */
    public record Host(String host, int workers, String user) {}

    private final List<Host> hosts;
    private int sshPort = 22;
    private Path identity;
    private final List<String> sshOptions = new ArrayList<>();
    private int basePort = 5701;
    private String remoteJava = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    private String remoteClassPath = System.getProperty("java.class.path");
    private String sshCommand = "ssh";
    private ProcessBuilder.Redirect programOutput = ProcessBuilder.Redirect.INHERIT;

    private Launcher(List<Host> hosts) {
        this.hosts = hosts;
    }

    /**
     * @param hosts the hosts, at least one
     * @return a launcher for them
     */
    public static Launcher forHosts(List<Host> hosts) {
        if (hosts.isEmpty()) {
            throw new IllegalArgumentException("the hosts list is empty: write one 'host [workers] [user@]' line per host");
        }
        return new Launcher(List.copyOf(hosts));
    }

    /**
     * Reads a hosts file: one {@code host [workers] [user@]} line per host; blank lines and
     * {@code #} comments are skipped. Workers default to 1.
     *
     * @param file the file
     * @param total the most workers in all ({@code -n}), or 0 for every line's
     * @return the hosts
     * @throws IllegalArgumentException naming the line that is wrong
     */
    public static List<Host> readHosts(Path file, int total) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the hosts file " + file + ": " + e.getMessage());
        }
        List<Host> hosts = new ArrayList<>();
        int left = total > 0 ? total : Integer.MAX_VALUE;
        for (int i = 0; i < lines.size() && left > 0; i++) {
            String line = lines.get(i).replaceFirst("#.*", "").strip();
            if (line.isEmpty()) {
                continue;
            }
            String[] parts = line.split("\\s+");
            int workers = 1;
            String user = null;
            for (int p = 1; p < parts.length; p++) {
                if (parts[p].endsWith("@") && parts[p].length() > 1) {
                    user = parts[p].substring(0, parts[p].length() - 1);
                } else {
                    try {
                        workers = Integer.parseInt(parts[p]);
                    } catch (NumberFormatException e) {
                        workers = 0;
                    }
                    if (workers < 1) {
                        throw new IllegalArgumentException(file + " line " + (i + 1) + ": '" + parts[p]
                                + "' is neither a worker count (>= 1) nor a user (user@); write 'host [workers] [user@]'");
                    }
                }
            }
            int take = Math.min(workers, left);
            left -= take;
            hosts.add(new Host(parts[0], take, user));
        }
        if (hosts.isEmpty()) {
            throw new IllegalArgumentException("the hosts file " + file + " names no host: write one 'host [workers] [user@]' line per host");
        }
        return hosts;
    }

    /** @param port the SSH port; @return this */
    public Launcher sshPort(int port) {
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException("--ssh-port must be in 1..65535, was " + port);
        }
        this.sshPort = port;
        return this;
    }

    /** @param file the private key for {@code ssh -i}; @return this */
    public Launcher identity(Path file) {
        if (!Files.isReadable(file)) {
            throw new IllegalArgumentException("the identity file " + file + " cannot be read");
        }
        this.identity = file;
        return this;
    }

    /** @param option an {@code ssh -o} option, e.g. {@code StrictHostKeyChecking=accept-new}; @return this */
    public Launcher sshOption(String option) {
        sshOptions.add(Objects.requireNonNull(option, "option"));
        return this;
    }

    /** @param port the first member port; host line i gets {@code port + i}; @return this */
    public Launcher basePort(int port) {
        this.basePort = port;
        return this;
    }

    /** @param java the {@code java} to run on the hosts (default: this JVM's path); @return this */
    public Launcher remoteJava(String java) {
        this.remoteJava = Objects.requireNonNull(java, "java");
        return this;
    }

    /** @param classPath the class path on the hosts (default: this JVM's); @return this */
    public Launcher remoteClassPath(String classPath) {
        this.remoteClassPath = Objects.requireNonNull(classPath, "classPath");
        return this;
    }

    /** @param redirect where the program's output goes (default: this JVM's); @return this */
    public Launcher programOutput(ProcessBuilder.Redirect redirect) {
        this.programOutput = Objects.requireNonNull(redirect, "redirect");
        return this;
    }

    /** A started worker: its ssh client, address, and what it printed. */
    private record Session(Host host, String address, Process ssh, List<String> out, List<String> err,
                           CompletableFuture<String> ready, Thread errPump) {}

    /**
     * Starts the workers, runs {@code java JVM-ARGS}, stops the workers.
     *
     * @param jvmArgs what follows {@code --}: options and the program, e.g. {@code -cp app.jar com.example.Main}
     * @param err     where the one-line failure goes
     * @return the program's exit code, or 1 when the workers could not be started
     */
    public int run(List<String> jvmArgs, PrintStream err) {
        if (jvmArgs.isEmpty()) {
            throw new IllegalArgumentException("name the program after --, e.g. -- -cp app.jar com.example.Main");
        }
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        String name = "launch-" + HexFormat.of().formatHex(key, 0, 4);
        List<String> members = new ArrayList<>();
        for (int i = 0; i < hosts.size(); i++) {
            members.add(resolve(hosts.get(i).host()) + ":" + (basePort + i));
        }
        List<Session> sessions = new ArrayList<>();
        Path keyFile = null;
        Thread hook = new Thread(() -> stopAll(sessions), "multiproc4j-cluster-launch-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            for (int i = 0; i < hosts.size(); i++) {
                sessions.add(start(hosts.get(i), members.get(i), members, name, key));
            }
            for (Session s : sessions) {
                String failure = awaitReady(s);
                if (failure != null) {
                    err.println("multiproc launch: " + failure);
                    return 1;
                }
            }
            keyFile = Files.createTempFile("multiproc4j-launch-key-", "",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.write(keyFile, key);
            List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.addAll(HazelcastSettings.JVM_FLAGS);
            command.add("-D" + ClusterConfig.MEMBERS_PROPERTY + "=" + String.join(",", members));
            command.addAll(jvmArgs);
            var builder = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.INHERIT)
                    .redirectOutput(programOutput).redirectError(programOutput == ProcessBuilder.Redirect.INHERIT
                            ? ProcessBuilder.Redirect.INHERIT : programOutput);
            builder.environment().put(ClusterConfig.MEMBERS_ENV, String.join(",", members));
            builder.environment().put(ClusterConfig.KEY_FILE_ENV, keyFile.toString());
            builder.environment().put(ClusterConfig.NAME_ENV, name);
            Process program = builder.start();
            try {
                return program.waitFor();
            } catch (InterruptedException e) {
                program.destroy();
                Thread.currentThread().interrupt();
                return 130;
            }
        } catch (IOException e) {
            err.println("multiproc launch: " + e.getMessage());
            return 1;
        } finally {
            stopAll(sessions);
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is going down: the hook runs anyway
            }
            if (keyFile != null) {
                try {
                    Files.deleteIfExists(keyFile);
                } catch (IOException e) {
                    err.println("multiproc launch: could not delete the key file " + keyFile + ": " + e.getMessage());
                }
            }
        }
    }

    private static String resolve(String host) {
        try {
            return InetAddress.getByName(host).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("host '" + host + "' in the hosts file cannot be resolved");
        }
    }

    private Session start(Host host, String address, List<String> members, String name, byte[] key) throws IOException {
        String ip = address.substring(0, address.lastIndexOf(':'));
        String port = address.substring(address.lastIndexOf(':') + 1);
        List<String> remote = new ArrayList<>();
        remote.add("exec");
        remote.add(remoteJava);
        remote.addAll(HazelcastSettings.JVM_FLAGS);
        remote.addAll(List.of("-cp", remoteClassPath, WorkerMain.class.getName(), "--join", String.join(",", members),
                "--cluster", name, "--key-file", "-", "--bind", ip, "--port", port, "--threads", Integer.toString(host.workers())));
        List<String> command = new ArrayList<>(List.of(sshCommand, "-p", Integer.toString(sshPort), "-o", "BatchMode=yes",
                "-o", "ConnectTimeout=15"));
        if (identity != null) {
            command.addAll(List.of("-i", identity.toString(), "-o", "IdentitiesOnly=yes"));
        }
        for (String option : sshOptions) {
            command.addAll(List.of("-o", option));
        }
        command.add((host.user() == null ? "" : host.user() + "@") + host.host());
        command.add(String.join(" ", remote.stream().map(Launcher::quote).toList()));
        Process ssh = new ProcessBuilder(command).start();
        ssh.getOutputStream().write((HexFormat.of().formatHex(key) + "\n").getBytes(StandardCharsets.US_ASCII));
        ssh.getOutputStream().flush();
        List<String> out = new CopyOnWriteArrayList<>();
        List<String> err = new CopyOnWriteArrayList<>();
        var ready = new CompletableFuture<String>();
        pump(ssh.getInputStream(), out, ready, "multiproc4j-cluster-launch-out-" + host.host());
        Thread errPump = pump(ssh.getErrorStream(), err, null, "multiproc4j-cluster-launch-err-" + host.host());
        return new Session(host, address, ssh, out, err, ready, errPump);
    }

    private static Thread pump(java.io.InputStream stream, List<String> lines, CompletableFuture<String> ready, String thread) {
        return Thread.ofPlatform().daemon().name(thread).start(() -> {
            try (var in = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    lines.add(line);
                    if (ready != null && line.startsWith("ready ")) {
                        ready.complete(line.substring(6));
                    }
                }
            } catch (IOException e) {
                // the session ended
            }
            if (ready != null) {
                ready.complete(null);
            }
        });
    }

    /** @return null once the worker is ready, else the one line that says why it is not */
    private String awaitReady(Session s) {
        String where = (s.host().user() == null ? "" : s.host().user() + "@") + s.host().host() + ":" + sshPort;
        String address;
        try {
            address = s.ready().get(READY_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            return where + ": the worker did not report ready within " + READY_TIMEOUT.toSeconds() + " s"
                    + lastLine(s.err());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while waiting for the worker on " + where;
        } catch (java.util.concurrent.ExecutionException e) {
            return where + ": " + e.getCause();
        }
        if (address != null) {
            return null;
        }
        int code = exitCode(s.ssh());
        try {
            s.errPump().join(10_000); // what ssh said before it ended, all of it
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        String error = String.join(" ", s.err());
        if (error.contains("Permission denied") || error.contains("Authentication failed") || code == 255 && error.contains("publickey")) {
            return "SSH login refused for " + where + " (" + lastLine(s.err()).substring(2) + "); check the user, --identity and the "
                    + "host's authorized_keys";
        }
        if (code == 255) {
            return "cannot reach " + where + " over SSH" + lastLine(s.err());
        }
        return "the worker on " + where + " exited with code " + code + " before it was ready" + lastLine(s.err());
    }

    private static String lastLine(List<String> lines) {
        for (int i = lines.size() - 1; i >= 0; i--) {
            String l = lines.get(i).strip();
            if (!l.isEmpty() && !l.startsWith("at ") && !l.startsWith("Warning: Permanently added")) {
                return ": " + l;
            }
        }
        return "";
    }

    private static int exitCode(Process p) {
        try {
            return p.waitFor(10, TimeUnit.SECONDS) ? p.exitValue() : -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** Ends every session: stdin closed (the worker stops), then the ssh client waited for, then killed. */
    private static synchronized void stopAll(List<Session> sessions) {
        for (Session s : sessions) {
            try {
                s.ssh().getOutputStream().close();
            } catch (IOException e) {
                // already closed
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (Session s : sessions) {
            try {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !s.ssh().waitFor(left, TimeUnit.NANOSECONDS)) {
                    s.ssh().destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                s.ssh().destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Single-quotes an argument for the remote POSIX shell. */
    static String quote(String arg) {
        if (arg.matches("[A-Za-z0-9_./:=,@%+-]+")) {
            return arg;
        }
        return "'" + arg.replace("'", "'\\''") + "'";
    }
}
