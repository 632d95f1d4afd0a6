package io.multiproc4j.internal.supervise;

import io.multiproc4j.WorkerOutput;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.Charset;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Copies one output stream of a worker JVM, line by line, to this JVM's stream (prefixed, raw, or
 * not at all) and keeps its last lines for crash reports. Runs on its own daemon thread; ends at EOF,
 * which comes when the worker exits.
 */
public final class OutputPump {
    /** Lines kept for a worker's crash report. */
    public static final int TAIL_LINES = 20;

    private final ArrayDeque<String> tail = new ArrayDeque<>();
    private final int tailLines;
    private final Thread thread;

    /**
     * @param source the worker's stream
     * @param target where to copy it
     * @param mode   how
     * @param prefix what to put before each line in {@link WorkerOutput#PREFIXED} mode
     * @param name   the thread's name
     */
    public OutputPump(InputStream source, PrintStream target, WorkerOutput mode, String prefix, String name) {
        this(source, target, mode, prefix, name, TAIL_LINES);
    }

    /**
     * @param source    the worker's stream
     * @param target    where to copy it
     * @param mode      how
     * @param prefix    what to put before each line in {@link WorkerOutput#PREFIXED} mode
     * @param name      the thread's name
     * @param tailLines how many of the last lines to keep
     */
    public OutputPump(InputStream source, PrintStream target, WorkerOutput mode, String prefix, String name,
                      int tailLines) {
        this.tailLines = Math.max(1, tailLines);
        this.thread = Thread.ofPlatform().daemon().name(name).unstarted(() -> pump(source, target, mode, prefix));
        thread.start();
    }

    private void pump(InputStream source, PrintStream target, WorkerOutput mode, String prefix) {
        try (var reader = new BufferedReader(new InputStreamReader(source, Charset.defaultCharset()))) {
            String line;
            while ((line = reader.readLine()) != null) {
                synchronized (tail) {
                    if (tail.size() == tailLines) {
                        tail.removeFirst();
                    }
                    tail.addLast(line);
                }
                switch (mode) {
                    case PREFIXED -> target.println(prefix + line);
                    case RAW -> target.println(line);
                    case DISCARD -> { }
                }
            }
        } catch (IOException e) {
            // the worker is gone; what we read is kept
        }
    }

    /** @return the last lines so far, oldest first, without waiting */
    public List<String> tail() {
        synchronized (tail) {
            return List.copyOf(tail);
        }
    }

    /**
     * Waits a little for the stream to end, so the last lines a dying worker wrote are in the tail.
     *
     * @param millis how long at most
     * @return the last lines, oldest first
     */
    public List<String> tailAfterExit(long millis) {
        try {
            thread.join(TimeUnit.MILLISECONDS.toMillis(millis));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (tail) {
            return List.copyOf(tail);
        }
    }
}
