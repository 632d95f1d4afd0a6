package io.multiproc4j.internal.shm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Who a process is, robustly: its pid plus its start time (clock ticks since boot, field 22 of
 * {@code /proc/PID/stat}). A pid alone is not an identity: the kernel reuses pids, so a holder
 * record that only kept the pid could name an unrelated, live process. The pair is unique for the
 * machine's uptime.
 *
 * <p>A process is <em>dead</em> when {@code /proc/PID} is gone, when it is a zombie (killed but not
 * yet reaped by its parent: it will never run again), or when the pid now belongs to a process with
 * a different start time.
 */
public final class ProcessIdentity {
    /** This process's pid. */
    public static final long PID = ProcessHandle.current().pid();
    /** This process's start time in clock ticks since boot. */
    public static final long START_TIME = startTimeOf(PID);

    private ProcessIdentity() {}

    /**
     * @param pid a process id
     * @return its start time in clock ticks since boot, or -1 when no such process exists
     */
    public static long startTimeOf(long pid) {
        String stat = readStat(pid);
        if (stat == null) {
            return -1;
        }
        String[] fields = fieldsAfterCommand(stat);
        // fields[0] is field 3 (state); field 22 (starttime) is fields[19]
        return fields.length > 19 ? Long.parseLong(fields[19]) : -1;
    }

    /**
     * @param pid       the recorded pid
     * @param startTime the recorded start time, or 0 when it was not recorded (then only the pid counts)
     * @return whether that very process is still alive (and not a zombie)
     */
    public static boolean isAlive(long pid, long startTime) {
        if (pid <= 0) {
            return false;
        }
        if (pid == PID) {
            return startTime == 0 || startTime == START_TIME;
        }
        String stat = readStat(pid);
        if (stat == null) {
            return false;
        }
        String[] fields = fieldsAfterCommand(stat);
        if (fields.length < 20 || "Z".equals(fields[0]) || "X".equals(fields[0])) {
            return false;
        }
        return startTime == 0 || Long.parseLong(fields[19]) == startTime;
    }

    private static String readStat(long pid) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return null;
        }
    }

    /** The command name (field 2) may hold spaces and parentheses: split after its last ')'. */
    private static String[] fieldsAfterCommand(String stat) {
        int close = stat.lastIndexOf(')');
        return stat.substring(close + 2).trim().split(" ");
    }
}
