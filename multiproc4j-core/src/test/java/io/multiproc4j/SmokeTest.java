package io.multiproc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SmokeTest {
    @Test
    void processesMap() throws Exception {
        long t0 = System.nanoTime();
        try (Pool pool = Pool.processes(2)) {
            List<Integer> in = IntStream.range(0, 100_000).boxed().toList();
            int first = pool.applyAsync((Integer x) -> x + 1, 1).get();
            System.out.println("first result after " + (System.nanoTime() - t0) / 1_000_000 + " ms");
            assertThat(first).isEqualTo(2);
            long t1 = System.nanoTime();
            List<Integer> out = pool.map(x -> x + 1, in);
            System.out.println("map 100k " + (System.nanoTime() - t1) / 1_000_000 + " ms");
            assertThat(out).hasSize(100_000).startsWith(1, 2, 3);
        }
        System.out.println("closed after " + (System.nanoTime() - t0) / 1_000_000 + " ms");
    }
}
