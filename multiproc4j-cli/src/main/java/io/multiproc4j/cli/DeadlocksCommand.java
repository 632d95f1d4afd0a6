package io.multiproc4j.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code multiproc deadlocks PID}: asks a running JVM for its thread dump through {@code jcmd PID
 * Thread.print} (the Attach API, from the same JDK as this command) and says which threads are
 * deadlocked, on what, and where, in plain words.
 */
@Command(name = "deadlocks", mixinStandardHelpOptions = true,
        description = {"Attach to a running JVM (same user) and print its deadlocked threads in plain words.",
                "Exit code 0: no deadlock; 3: deadlocks found; 1: could not inspect the process.",
                "Covers monitors (synchronized) and ownable synchronizers (ReentrantLock, ...) of platform threads;"
                        + " the JDK does not detect deadlocks among virtual threads."})
final class DeadlocksCommand implements Callable<Integer> {
    /** Exit code when deadlocks were found. */
    static final int FOUND = 3;

    private static final Pattern THREAD_HEADER = Pattern.compile("^\"(.*)\":\\s*$");
    private static final Pattern WAITING = Pattern.compile("^\\s+waiting (?:to lock monitor|for ownable synchronizer)"
            + ".*\\(.*?a ([\\w.$]+)\\)");
    private static final Pattern HELD_BY = Pattern.compile("^\\s+which is held by \"(.*)\"");
    private static final Pattern FRAME = Pattern.compile("^\\s+at (.+)$");

    @Parameters(paramLabel = "PID", description = "The process id of the JVM to inspect.")
    long pid;

    /** One deadlocked thread as the dump describes it. */
    record Waiter(String thread, String lockType, String holder, String where) {}

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (pid <= 0 || ProcessHandle.of(pid).isEmpty()) {
            throw new UserError("no process with pid " + pid + " (is it still running?)");
        }
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        if (!Files.isExecutable(jcmd)) {
            throw new UserError("cannot find jcmd in " + jcmd.getParent() + ": run multiproc with a full JDK 25");
        }
        Process p = new ProcessBuilder(jcmd.toString(), Long.toString(pid), "Thread.print", "-l")
                .redirectErrorStream(true).start();
        String dump;
        try {
            p.getOutputStream().close();
            dump = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                throw new UserError("jcmd did not answer within 60 s for pid " + pid);
            }
        } finally {
            p.destroyForcibly();
        }
        if (p.exitValue() != 0 || !dump.contains("Full thread dump")) {
            String reason = dump.lines().filter(l -> !l.isBlank() && !l.startsWith(pid + ":")).findFirst()
                    .orElse("jcmd exited with " + p.exitValue());
            throw new UserError("cannot inspect pid " + pid + " (not a JVM of this user?): " + reason.trim());
        }
        List<List<Waiter>> deadlocks = parse(dump);
        long threads = dump.lines().filter(l -> l.startsWith("\"")).count();
        if (deadlocks.isEmpty()) {
            System.out.printf("No deadlocked threads in JVM %d (%d threads inspected).%n", pid, threads);
            return 0;
        }
        System.out.printf("JVM %d: %d deadlock%s.%n", pid, deadlocks.size(), deadlocks.size() == 1 ? "" : "s");
        int i = 1;
        for (List<Waiter> cycle : deadlocks) {
            System.out.printf("%nDeadlock %d: %d threads wait for each other.%n", i++, cycle.size());
            for (Waiter w : cycle) {
                System.out.printf("  Thread \"%s\" waits for a %s held by thread \"%s\"%s.%n", w.thread(),
                        w.lockType(), w.holder(), w.where() == null ? "" : ", at " + w.where());
            }
        }
        return FOUND;
    }

    /**
     * @param dump the output of {@code jcmd PID Thread.print}
     * @return each deadlock the JVM reported, as its waiting threads
     */
    static List<List<Waiter>> parse(String dump) {
        List<List<Waiter>> result = new ArrayList<>();
        String[] lines = dump.split("\n");
        for (int i = 0; i < lines.length; i++) {
            if (!lines[i].startsWith("Found one Java-level deadlock")) {
                continue;
            }
            Map<String, String[]> waits = new LinkedHashMap<>();
            Map<String, String> where = new LinkedHashMap<>();
            String current = null;
            boolean stacks = false;
            for (i = i + 1; i < lines.length; i++) {
                String line = lines[i];
                if (line.startsWith("Found one Java-level deadlock") || line.matches("^Found \\d+ deadlocks?\\.\\s*$")) {
                    i--;
                    break;
                }
                if (line.startsWith("Java stack information")) {
                    stacks = true;
                    continue;
                }
                Matcher m = THREAD_HEADER.matcher(line);
                if (m.matches()) {
                    current = m.group(1);
                    continue;
                }
                if (current == null) {
                    continue;
                }
                if (!stacks) {
                    Matcher wm = WAITING.matcher(line);
                    if (wm.find()) {
                        waits.computeIfAbsent(current, k -> new String[2])[0] = wm.group(1);
                    }
                    Matcher hm = HELD_BY.matcher(line);
                    if (hm.find()) {
                        waits.computeIfAbsent(current, k -> new String[2])[1] = hm.group(1);
                    }
                } else {
                    Matcher fm = FRAME.matcher(line);
                    if (fm.find() && !where.containsKey(current)) {
                        where.put(current, fm.group(1));
                    }
                }
            }
            List<Waiter> cycle = new ArrayList<>();
            waits.forEach((thread, w) -> cycle.add(new Waiter(thread, w[0] == null ? "lock" : w[0],
                    w[1] == null ? "another thread" : w[1], where.get(thread))));
            if (!cycle.isEmpty()) {
                result.add(cycle);
            }
        }
        return result;
    }
}
