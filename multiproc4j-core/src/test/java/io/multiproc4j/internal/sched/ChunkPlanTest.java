package io.multiproc4j.internal.sched;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChunkPlanTest {

    private static List<Integer> sizes(ChunkPlan plan, int n) {
        List<Integer> out = new ArrayList<>();
        for (int remaining = n; remaining > 0; ) {
            int size = plan.next(remaining);
            assertThat(size).as("chunk %d of a map of %d, %d left", out.size(), n, remaining).isBetween(1, remaining);
            out.add(size);
            remaining -= size;
        }
        return out;
    }

    private static int python(int n, int workers) {
        return (int) Math.max(1, (n + 4L * workers - 1) / (4L * workers));
    }

    @Test
    void fixed_givesEveryChunkTheSize_andTheLastWhatIsLeft() {
        assertThat(sizes(ChunkPlan.fixed(3), 10)).containsExactly(3, 3, 3, 1);
        assertThat(sizes(ChunkPlan.fixed(1), 3)).containsExactly(1, 1, 1);
        assertThat(sizes(ChunkPlan.fixed(100), 7)).containsExactly(7);
    }

    @Test
    void tapering_aMillionOnTwoWorkers_startsAtPythonsSize_andEndsAtAnEighthOfIt() {
        List<Integer> sizes = sizes(ChunkPlan.tapering(1_000_000, 2), 1_000_000);
        assertThat(sizes.subList(0, 4)).containsOnly(125_000); // the first half: Python's chunks
        assertThat(sizes.get(5)).isLessThan(125_000);
        assertThat(sizes.get(sizes.size() - 2)).isEqualTo(15_625);
        assertThat(sizes).isSortedAccordingTo((a, b) -> Integer.compare(b, a));
        assertThat(sizes).hasSizeBetween(9, 16); // Python: 8
    }

    @Test
    void tapering_coversEveryInputOnce_withinPythonsSize_andAtMostAboutTwicePythonsChunkCount() {
        for (int workers : new int[] {1, 2, 3, 8, 64, 1_000, 5_000}) {
            for (int n : new int[] {1, 2, 3, 7, 10, 99, 1_000, 12_345, 100_000, 1_000_000, 10_000_007}) {
                List<Integer> sizes = sizes(ChunkPlan.tapering(n, workers), n);
                assertThat(sizes.stream().mapToLong(Integer::intValue).sum()).as("n %d, workers %d", n, workers).isEqualTo(n);
                int python = python(n, workers);
                assertThat(sizes).as("n %d, workers %d", n, workers).allMatch(s -> s <= python);
                long pythonChunks = (n + python - 1) / python;
                assertThat((long) sizes.size()).as("chunks of n %d, workers %d", n, workers)
                        .isLessThanOrEqualTo(2 * pythonChunks + 8L * workers);
                assertThat(sizes).as("n %d, workers %d", n, workers).isSortedAccordingTo((a, b) -> Integer.compare(b, a));
            }
        }
    }

    @Test
    void tapering_withNoWorkerCountedYet_plansAsForOne() {
        assertThat(sizes(ChunkPlan.tapering(100, 0), 100)).isEqualTo(sizes(ChunkPlan.tapering(100, 1), 100));
    }
}
