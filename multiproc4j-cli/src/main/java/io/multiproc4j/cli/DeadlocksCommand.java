package io.multiproc4j.cli;

import io.multiproc4j.diagnostics.ProcessDeadlocks;
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
 * {@code multiproc deadlocks [PID]}: deadlocks inside a JVM and across processes. With a PID it asks
 * that JVM for its thread dump through {@code jcmd PID Thread.print} (the Attach API, from the same JDK
 * as this command) and says which threads are deadlocked, on what, and where. In every case it also
 * reads the wait-for graph of this machine's process locks ({@link ProcessDeadlocks}) and prints each
 * cycle through processes (only those involving PID, when one is given), naming holders and waiters.
 */
@Command(name = "deadlocks", mixinStandardHelpOptions = true,
        description = {"Print deadlocks in plain words: the deadlocked threads of a running JVM (same user), and"
                + " cycles of process locks (ProcessLock, ProcessReentrantLock) across processes of this machine.",
                "Without PID: the cross-process cycles only. With PID: that JVM's threads, and the cycles it is part of.",
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

    @Parameters(paramLabel = "PID", arity = "0..1", description = "The process id of the JVM to inspect;"
            + " without it, only deadlocks across processes are looked for.")
    Long pid;

    /** One deadlocked thread as the dump describes it. */
    record Waiter(String thread, String lockType, String holder, String where) {}

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (pid == null) {
            List<ProcessDeadlocks.Cycle> crossProcess = ProcessDeadlocks.find();
            if (crossProcess.isEmpty()) {
                System.out.println("No deadlock across processes: no cycle among the process locks of this machine.");
                return 0;
            }
            printCycles(crossProcess);
            return FOUND;
        }
        return inspect(pid);
    }

    private static void printCycles(List<ProcessDeadlocks.Cycle> cycles) {
        System.out.printf("%d deadlock%s across processes (process locks).%n", cycles.size(),
                cycles.size() == 1 ? "" : "s");
        for (ProcessDeadlocks.Cycle c : cycles) {
            System.out.println();
            System.out.print(c.describe(threadNames(c)));
        }
    }

    private static final Pattern THREAD_ID = Pattern.compile("^\"(.*)\" #(\\d+) ");

    /** Names the cycle's threads from each process's thread dump; a process that cannot be asked keeps ids. */
    private static Map<ProcessDeadlocks.Party, String> threadNames(ProcessDeadlocks.Cycle cycle) {
        Map<ProcessDeadlocks.Party, String> names = new LinkedHashMap<>();
        for (long p : cycle.pids()) {
            String dump;
            try {
                dump = threadDump(p);
            } catch (IOException | RuntimeException e) {
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            for (String line : dump.split("\n")) {
                Matcher m = THREAD_ID.matcher(line);
                if (m.find()) {
                    names.put(new ProcessDeadlocks.Party(p, Long.parseLong(m.group(2))), m.group(1));
                }
            }
        }
        return names;
    }

    private static String threadDump(long pid) throws IOException, InterruptedException {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        Process p = new ProcessBuilder(jcmd.toString(), Long.toString(pid), "Thread.print").redirectErrorStream(true)
                .start();
        try {
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(60, TimeUnit.SECONDS);
            return out;
        } finally {
            p.destroyForcibly();
        }
    }

    private Integer inspect(long pid) throws IOException, InterruptedException {
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
        List<ProcessDeadlocks.Cycle> crossProcess = ProcessDeadlocks.involving(pid);
        if (deadlocks.isEmpty() && crossProcess.isEmpty()) {
            System.out.printf("No deadlocked threads in JVM %d (%d threads inspected), and no deadlock across"
                    + " processes involving it.%n", pid, threads);
            return 0;
        }
        if (deadlocks.isEmpty()) {
            System.out.printf("No deadlocked threads inside JVM %d (%d threads inspected), but:%n", pid, threads);
            printCycles(crossProcess);
            return FOUND;
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
        if (!crossProcess.isEmpty()) {
            System.out.println();
            printCycles(crossProcess);
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
