package io.multiproc4j.internal.sched;

/**
 * The sizes of a map's chunks, one after the other.
 *
 * <p>The default, {@link #tapering}, starts at Python's size, {@code ceil(n / (4 × workers))}, and
 * shrinks towards the end. With equal chunks the last one runs alone: a worker that finishes first
 * waits, idle, for the other's last chunk, on average half a chunk's time. For a 1M-element map of
 * 437 ns per element on 2 workers that is ~27 ms of a ~245 ms map, which caps the speed-up near 1.8.
 * Tapering keeps Python's size while half of the inputs or more are left, then gives each chunk half of what
 * each worker still has to do ({@code remaining / (2 × workers)}), down to an eighth of Python's
 * size: the last chunks are small, so the workers finish close together, and a map gets about twice
 * Python's chunk count, not more (each chunk costs a round of messages).
 */
abstract sealed class ChunkPlan {

    /**
     * @param remaining inputs not yet chunked, at least 1
     * @return the size of the next chunk, between 1 and {@code remaining}
     */
    abstract int next(int remaining);

    /** @param size every chunk's size, at least 1 (the last one takes what is left) */
    static ChunkPlan fixed(int size) {
        return new Fixed(size);
    }

    /**
     * @param n       the map's inputs
     * @param workers the pool's workers (at least 1 is assumed)
     */
    static ChunkPlan tapering(int n, int workers) {
        return new Tapering(n, Math.max(1, workers));
    }

    private static final class Fixed extends ChunkPlan {
        private final int size;

        Fixed(int size) {
            this.size = size;
        }

        @Override
        int next(int remaining) {
            return Math.min(size, remaining);
        }
    }

    private static final class Tapering extends ChunkPlan {
        private final int workers;
        private final int largest;
        private final int smallest;

        Tapering(int n, int workers) {
            this.workers = workers;
            this.largest = (int) Math.max(1, ceilDiv(n, 4L * workers)); // Python's rule
            this.smallest = (int) Math.max(1, ceilDiv(largest, 8));
        }

        @Override
        int next(int remaining) {
            long half = ceilDiv(remaining, 2L * workers);
            return (int) Math.min(remaining, Math.min(largest, Math.max(smallest, half)));
        }

        private static long ceilDiv(long a, long b) {
            return (a + b - 1) / b;
        }
    }
}
