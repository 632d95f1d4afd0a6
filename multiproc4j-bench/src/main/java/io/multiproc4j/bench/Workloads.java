package io.multiproc4j.bench;

import io.multiproc4j.SerializableFunction;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The per-element work of the talk's experiments, shared by the tour, the side-by-side runner and the
 * JMH benchmarks, so every figure measures the same thing. The Python side ({@code side_by_side.py})
 * implements the same functions.
 */
public final class Workloads {
    /** Rounds of {@link #heavy(int)}: about 200 times the work of {@link #light(int)}. */
    public static final int HEAVY_ROUNDS = 200;

    /** {@code x -> x + 1} as a function a process pool can ship. */
    public static final SerializableFunction<Integer, Integer> LIGHT = Workloads::light;

    /** Rounds of {@link #heavier(int)}: ten times {@link #heavy(int)}, a few microseconds. */
    public static final int HEAVIER_ROUNDS = 10 * HEAVY_ROUNDS;

    /** {@link #heavier(int)} as a function a process pool can ship. */
    public static final SerializableFunction<Integer, Integer> HEAVIER = Workloads::heavier;

    /** {@link #heavy(int)} as a function a process pool can ship. */
    public static final SerializableFunction<Integer, Integer> HEAVY = Workloads::heavy;

    private Workloads() {}

    /**
     * @param x the input
     * @return {@code x + 1}: about a nanosecond of work
     */
    public static int light(int x) {
        return x + 1;
    }

    /**
     * A data-dependent chain of multiply, add and xor-shift: each round needs the previous one, so
     * the JIT can neither fold it nor vectorize it away, and its cost does not depend on {@code x}.
     * @param x the input
     * @return a hash of {@code x}
     */
    public static int heavy(int x) {
        return rounds(x, HEAVY_ROUNDS);
    }

    /**
     * As {@link #heavy(int)} with ten times the rounds: coarse enough per element that a chunk-size sweep
     * shows both the round-trip cost of tiny chunks and the imbalance of huge ones.
     * @param x the input
     * @return a hash of {@code x}
     */
    public static int heavier(int x) {
        return rounds(x, HEAVIER_ROUNDS);
    }

    private static int rounds(int x, int rounds) {
        int h = x;
        for (int i = 0; i < rounds; i++) {
            h = h * 0x9E3779B1 + i;
            h ^= h >>> 15;
        }
        return h;
    }

    /**
     * @param n how many
     * @return {@code 0..n-1} boxed, as the talk's {@code range(n)}
     */
    public static List<Integer> inputs(int n) {
        return IntStream.range(0, n).boxed().toList();
    }

    /**
     * @param samples measurements (not modified)
     * @return their median
     */
    public static double median(double[] samples) {
        if (samples.length == 0) {
            throw new IllegalArgumentException("median of no samples");
        }
        double[] s = samples.clone();
        Arrays.sort(s);
        int m = s.length / 2;
        return s.length % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2;
    }
}
