package io.multiproc4j.testkit;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * What a process holds that a leak would grow: open descriptors, threads, and entries of ours in
 * {@code /dev/shm} and the temporary directory, read from {@code /proc} (Linux). Tests take a
 * {@link #snapshot} before a workload and {@link #awaitBack} after it: the counts must come back
 * within a stated slack, and no entry of ours may remain.
 *
 * <p>Other processes share {@code /dev/shm} and {@code /tmp}: entries are filtered by a predicate
 * (our prefixes and pids), never counted as a whole.
 */
public final class ProcessResources {
    private ProcessResources() {}

    /**
     * @param fds     open file descriptors
     * @param threads live threads (kernel tasks, so JVM-internal threads count too)
     * @param entries the file names of ours found under the watched directories
     */
    public record Snapshot(int fds, int threads, Set<String> entries) {
        @Override
        public String toString() {
            return fds + " fds, " + threads + " threads, entries " + entries;
        }
    }

    /**
     * @param pid       a process id
     * @param ours      which names under {@code directories} are ours
     * @param directories where to look for entries ({@code /dev/shm}, {@code java.io.tmpdir})
     * @return the current counts
     */
    public static Snapshot snapshot(long pid, Predicate<String> ours, Path... directories) {
        return new Snapshot(count(Path.of("/proc", Long.toString(pid), "fd")),
                count(Path.of("/proc", Long.toString(pid), "task")), entries(ours, directories));
    }

    /** @return a snapshot of this JVM, with no directory watched */
    public static Snapshot self() {
        return snapshot(ProcessHandle.current().pid(), name -> false);
    }

    /**
     * Waits until the process is back to {@code baseline}: at most {@code fdSlack} more descriptors and
     * {@code threadSlack} more threads, and no entry of ours that the baseline did not have.
     *
     * @param pid         the process
     * @param baseline    what it held before
     * @param fdSlack     descriptors allowed above the baseline (say why where it is not 0)
     * @param threadSlack threads allowed above the baseline (say why where it is not 0)
     * @param ours        which entries are ours
     * @param timeout     how long it may take to release them
     * @param directories where entries are looked for
     * @return the snapshot that satisfied the condition
     */
    public static Snapshot awaitBack(long pid, Snapshot baseline, int fdSlack, int threadSlack, Predicate<String> ours,
            Duration timeout, Path... directories) {
        Snapshot[] last = new Snapshot[1];
        try {
            Conditions.await("process " + pid + " back to " + baseline + " (+" + fdSlack + " fds, +" + threadSlack
                    + " threads)", timeout, () -> {
                        Snapshot now = snapshot(pid, ours, directories);
                        last[0] = now;
                        return now.fds() <= baseline.fds() + fdSlack && now.threads() <= baseline.threads() + threadSlack
                                && baseline.entries().containsAll(now.entries());
                    });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; last seen: " + last[0] + describeFds(pid, last[0], baseline), e);
        }
        return last[0];
    }

    private static String describeFds(long pid, Snapshot now, Snapshot baseline) {
        if (now == null || now.fds() <= baseline.fds()) {
            return "";
        }
        List<String> targets = new ArrayList<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : fds) {
                try {
                    targets.add(fd.getFileName() + "->" + Files.readSymbolicLink(fd));
                } catch (IOException e) {
                    // closed meanwhile
                }
            }
        } catch (IOException e) {
            return "";
        }
        return "; descriptors: " + targets;
    }

    /** @return names of the threads of this JVM, for a failure message */
    public static List<String> threadNames() {
        return Thread.getAllStackTraces().keySet().stream().map(Thread::getName).sorted().toList();
    }

    private static int count(Path directory) {
        try (Stream<Path> entries = Files.list(directory)) {
            return (int) entries.count();
        } catch (IOException e) {
            throw new IllegalStateException("cannot list " + directory + " (Linux /proc is needed): " + e, e);
        }
    }

    private static Set<String> entries(Predicate<String> ours, Path... directories) {
        Set<String> found = new TreeSet<>();
        for (Path directory : directories) {
            try (DirectoryStream<Path> names = Files.newDirectoryStream(directory)) {
                for (Path name : names) {
                    if (ours.test(name.getFileName().toString())) {
                        found.add(directory.resolve(name.getFileName()).toString());
                    }
                }
            } catch (IOException e) {
                // a directory that is not there holds nothing of ours
            }
        }
        return found;
    }
}
