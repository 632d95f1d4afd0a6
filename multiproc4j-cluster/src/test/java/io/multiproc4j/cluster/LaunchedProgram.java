package io.multiproc4j.cluster;

import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;

/** The program {@link LauncherTest} has {@code multiproc launch} run: it uses the members it was handed. */
public final class LaunchedProgram {
    private LaunchedProgram() {}

    /**
     * @param args how many members to wait for
     */
    public static void main(String[] args) {
        int expected = Integer.parseInt(args[0]);
        try (ClusterPool pool = ClusterPool.connect(ClusterConfig.fromEnvironment())) {
            pool.awaitMembers(expected, Duration.ofSeconds(60));
            List<Integer> out = pool.map((Integer x) -> x * 3, IntStream.range(0, 2_000).boxed().toList(), 5);
            System.out.println("sum=" + out.stream().mapToLong(Integer::longValue).sum());
            System.out.println("members=" + pool.members().size());
            System.out.println("used=" + pool.members().stream().filter(m -> m.done() > 0).count());
        }
    }
}
