package io.multiproc4j.cli.report;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A progress bar on standard error, so that tables on standard output stay clean when piped. On a
 * terminal it redraws one line; otherwise it prints one line per step.
 */
public final class Progress {
    private static final int WIDTH = 30;
    private final PrintStream out;
    private final boolean terminal;
    private final long startNanos = System.nanoTime();
    private int total;
    private int done;

    /**
     * @param out   where to draw (standard error)
     * @param total the number of steps planned, at least 1
     */
    public Progress(PrintStream out, int total) {
        this.out = out;
        this.terminal = System.console() != null && System.console().isTerminal();
        this.total = Math.max(1, total);
    }

    /**
     * Starts over with a new plan.
     * @param steps the number of steps planned, at least 1
     */
    public synchronized void reset(int steps) {
        this.total = Math.max(1, steps);
        this.done = 0;
    }

    /**
     * Marks one step done.
     * @param label what was just measured
     */
    public synchronized void step(String label) {
        done = Math.min(total, done + 1);
        int filled = WIDTH * done / total;
        String bar = "=".repeat(filled) + (filled < WIDTH ? ">" : "") + " ".repeat(Math.max(0, WIDTH - filled - 1));
        String line = String.format(Locale.ROOT, "[%s] %3d%% %5.1fs  %s", bar, 100 * done / total,
                (System.nanoTime() - startNanos) / 1e9, label);
        if (terminal) {
            out.print("\r\033[2K" + line);
            out.flush();
        } else {
            out.println(line);
        }
    }

    /**
     * Marks steps done up to {@code target}, for an experiment that ended (or failed) before reporting
     * every step it planned; does nothing when the bar is already there.
     * @param target how many steps should be done now
     * @param label  what ended
     */
    public synchronized void catchUp(int target, String label) {
        if (done < Math.min(target, total)) {
            done = Math.min(target, total) - 1;
            step(label);
        }
    }

    /** Ends the bar's line (on a terminal). */
    public synchronized void finish() {
        if (terminal) {
            out.print("\r\033[2K");
            out.flush();
        }
    }

    /**
     * Prints a line without breaking the bar.
     * @param message the line
     */
    public synchronized void note(String message) {
        if (terminal) {
            out.print("\r\033[2K");
        }
        out.println(message);
    }
}
