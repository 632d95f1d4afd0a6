package io.multiproc4j.bench;

import io.multiproc4j.Pool;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.TimeUnit;

/**
 * {@code Pool.threads(2).map(x -> x + 1)} against a bare {@code ForkJoinPool(2)} running the same chunks
 * and collecting their results into one list: what the pool's scheduling, ordering and bookkeeping
 * cost over the JDK's own executor.
 *
 * <p>Why a JVM of its own, and pairs: one map is ~2 ms, so a single young collection or a JIT
 * recompilation inside a sample moves it by more than the target's margin. Measured inside the
 * side-by-side run, after the process maps had filled the heap with 1M-element arrays, the same code
 * gave 1.10, 1.48 and 1.56 in three runs, and 0.33–2.30 standalone. Here the probe runs in a fresh JVM
 * with the default options (G1, as a user's JVM), warms both until compiled, then times many pairs,
 * the order inside a pair alternating, and reports the median of the per-pair ratios: a pause that
 * lands in one sample spoils one pair, not the median.
 *
 * <p>Run: {@code java -cp "$CP" io.multiproc4j.bench.ThreadPoolOverheadProbe [pairs] [elements]}. Prints
 * one line, {@code ratio R pool P bare B} (medians, ms), that {@link SideBySide} parses.
 */
public final class ThreadPoolOverheadProbe {
    private static final int CHUNK = 10_000;

    private ThreadPoolOverheadProbe() {}

    /**
     * The figure, measured in a child JVM started from this JVM's {@code java} and class path.
     * @param pairs    timed pairs
     * @param elements elements of each map
     * @return the median of pool time / bare time over the pairs
     * @throws IOException when the child cannot be started or says nothing parsable
     * @throws InterruptedException when interrupted while waiting for it
     */
    static double measureInOwnJvm(int pairs, int elements) throws IOException, InterruptedException {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), ThreadPoolOverheadProbe.class.getName(), Integer.toString(pairs),
                Integer.toString(elements));
        // its output goes to a file, so a child that hangs is seen by the deadline, not a blocked read
        Path output = Files.createTempFile("multiproc4j-thread-overhead-", ".txt");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        try {
            if (!p.waitFor(5, TimeUnit.MINUTES)) {
                throw new IOException("the thread pool overhead probe did not exit within 5 minutes");
            }
            String text = Files.readString(output, StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new IOException("the thread pool overhead probe exited with " + p.exitValue() + ": " + text.strip());
            }
            return parseRatio(text);
        } finally {
            p.destroyForcibly();
            Files.deleteIfExists(output);
        }
    }

    /**
     * @param output the probe's output
     * @return the ratio on its {@code ratio ...} line
     * @throws IOException when there is no such line
     */
    static double parseRatio(String output) throws IOException {
        for (String line : output.split("\n")) {
            String[] f = line.strip().split(" ");
            if (f.length >= 2 && f[0].equals("ratio")) {
                return Double.parseDouble(f[1]);
            }
        }
        throw new IOException("the thread pool overhead probe printed no ratio line: " + output.strip());
    }

    /**
     * @param args [pairs (default 41)] [elements (default 1,000,000)]
     * @throws Exception when a map fails
     */
    public static void main(String[] args) throws Exception {
        int pairs = args.length > 0 ? Integer.parseInt(args[0]) : 41;
        int elements = args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000;
        if (pairs < 1 || elements < 1) {
            throw new IllegalArgumentException("pairs and elements must be at least 1, were " + pairs + " and " + elements);
        }
        List<Integer> vector = Workloads.inputs(elements);
        ForkJoinPool fj = new ForkJoinPool(2);
        try (Pool threads = Pool.threads(2)) {
            SideBySide.Body pool = () -> threads.map(Workloads.LIGHT, vector, CHUNK);
            SideBySide.Body bare = () -> bareMap(fj, vector);
            // warm-up: both compiled (C2) before timing; a map is a few ms, so this is well under a second
            for (int i = 0; i < 30; i++) {
                pool.run();
                bare.run();
            }
            double[] ratios = new double[pairs];
            double[] poolMs = new double[pairs];
            double[] bareMs = new double[pairs];
            for (int i = 0; i < pairs; i++) {
                if (i % 2 == 0) {
                    poolMs[i] = millis(pool);
                    bareMs[i] = millis(bare);
                } else {
                    bareMs[i] = millis(bare);
                    poolMs[i] = millis(pool);
                }
                ratios[i] = poolMs[i] / bareMs[i];
            }
            System.out.printf(Locale.ROOT, "ratio %.4f pool %.3f bare %.3f%n", Workloads.median(ratios),
                    Workloads.median(poolMs), Workloads.median(bareMs));
        } finally {
            fj.shutdownNow();
        }
    }

    private static void bareMap(ForkJoinPool fj, List<Integer> vector) {
        List<ForkJoinTask<List<Integer>>> tasks = new ArrayList<>();
        for (int from = 0; from < vector.size(); from += CHUNK) {
            List<Integer> part = vector.subList(from, Math.min(vector.size(), from + CHUNK));
            tasks.add(fj.submit(() -> SideBySide.sequential(Workloads.LIGHT, part)));
        }
        List<Integer> out = new ArrayList<>(vector.size());
        for (ForkJoinTask<List<Integer>> t : tasks) {
            out.addAll(t.join());
        }
        if (out.size() != vector.size()) {
            throw new IllegalStateException("lost results");
        }
    }

    private static double millis(SideBySide.Body body) throws Exception {
        long t0 = System.nanoTime();
        body.run();
        return (System.nanoTime() - t0) / 1e6;
    }
}
