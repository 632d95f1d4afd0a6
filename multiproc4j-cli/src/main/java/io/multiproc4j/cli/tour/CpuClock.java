package io.multiproc4j.cli.tour;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The CPU time of the tour's process tree, so that each section's progress line can say how much CPU
 * it used beside how long it took: on a shared machine the wall time says how busy the machine was,
 * the CPU time what the section itself cost. Read from Linux's {@code /proc}: this JVM's user and
 * system time, that of its children it has waited for (worker JVMs that exited), and that of every
 * live descendant (worker and member JVMs running now). Elsewhere it reads nothing.
 */
final class CpuClock {
    /** Linux's USER_HZ, the unit of {@code /proc/PID/stat}'s times; 100 on every Linux architecture Java runs on. */
    private static final double TICKS_PER_SECOND = 100;

    private CpuClock() {}

    /** @return seconds of CPU used so far by this JVM and its descendants, or NaN where /proc cannot say */
    static double treeSeconds() {
        long self = ProcessHandle.current().pid();
        long[] mine = ticks(self, true);
        if (mine == null) {
            return Double.NaN;
        }
        long total = mine[0];
        for (ProcessHandle child : ProcessHandle.current().descendants().toList()) {
            long[] t = ticks(child.pid(), false);
            if (t != null) {
                total += t[0];
            }
        }
        return total / TICKS_PER_SECOND;
    }

    /**
     * @param pid              a process
     * @param waitedForChildren whether to add the times of its children it has waited for
     * @return its CPU ticks, in an array of one, or null when they cannot be read (gone, or no /proc)
     */
    private static long[] ticks(long pid, boolean waitedForChildren) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // the command name, in parentheses, may hold spaces: the fields that follow it are counted from there
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // after the name: state(0) ... utime(11) stime(12) cutime(13) cstime(14)
            long t = Long.parseLong(f[11]) + Long.parseLong(f[12]);
            if (waitedForChildren) {
                t += Long.parseLong(f[13]) + Long.parseLong(f[14]);
            }
            return new long[] {t};
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
