package io.multiproc4j;

import java.io.Serial;
import java.util.List;

/**
 * The worker JVM running a task died: {@code System.exit}, {@code Runtime.halt}, a signal such as
 * SIGKILL, a crash in native code, or {@code OutOfMemoryError} (workers run with
 * {@code -XX:+ExitOnOutOfMemoryError}). Only the tasks that worker held fail; the pool replaces it.
 */
public final class WorkerCrashedException extends TaskFailedException {
    @Serial
    private static final long serialVersionUID = 1L;

    private final int exitCode;
    private final String[] stderrTail;

    /**
     * @param taskIndex  the index of the task that was running
     * @param worker     the worker that died
     * @param exitCode   its exit code; 128 + n when it was killed by signal n
     * @param stderrTail the last lines it wrote to standard error
     */
    public WorkerCrashedException(long taskIndex, WorkerRef worker, int exitCode, List<String> stderrTail) {
        super(describe(taskIndex, worker, exitCode, stderrTail), null, taskIndex, worker);
        this.exitCode = exitCode;
        this.stderrTail = stderrTail.toArray(String[]::new);
    }

    /** @return the worker's exit code; 128 + n when it was killed by signal n */
    public int exitCode() {
        return exitCode;
    }

    /** @return the signal that killed the worker, or 0 when it exited by itself */
    public int signal() {
        return exitCode > 128 && exitCode < 128 + 65 ? exitCode - 128 : 0;
    }

    /** @return the last lines the worker wrote to standard error, oldest first */
    public List<String> stderrTail() {
        return List.of(stderrTail);
    }

    private static String describe(long taskIndex, WorkerRef worker, int exitCode, List<String> tail) {
        var sb = new StringBuilder("task ").append(taskIndex).append(" was lost: ").append(worker)
                .append(" died with exit code ").append(exitCode);
        if (exitCode > 128 && exitCode < 128 + 65) {
            sb.append(" (killed by signal ").append(exitCode - 128).append(signalName(exitCode - 128)).append(')');
        }
        String reason = likelyReason(exitCode, tail);
        if (reason != null) {
            sb.append("; ").append(reason);
        }
        if (!tail.isEmpty()) {
            sb.append("; last stderr lines:");
            for (String line : tail) {
                sb.append("\n  ").append(line);
            }
        }
        return sb.toString();
    }

    private static String signalName(int signal) {
        return switch (signal) {
            case 6 -> ", SIGABRT";
            case 9 -> ", SIGKILL";
            case 11 -> ", SIGSEGV";
            case 15 -> ", SIGTERM";
            default -> "";
        };
    }

    private static String likelyReason(int exitCode, List<String> tail) {
        for (String line : tail) {
            if (line.contains("OutOfMemoryError")) {
                return "it ran out of memory (raise -Xmx with PoolBuilder.jvmOptions, or use smaller chunks)";
            }
        }
        if (exitCode == 137) {
            return "SIGKILL usually means the kernel's OOM killer or another process killed it";
        }
        if (exitCode == 134 || exitCode == 139) {
            return "a crash in native code (look for an hs_err_pid file in the worker's directory)";
        }
        return null;
    }
}
