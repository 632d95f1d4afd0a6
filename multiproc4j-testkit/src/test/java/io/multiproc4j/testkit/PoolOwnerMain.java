package io.multiproc4j.testkit;

import io.multiproc4j.Pool;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.IntStream;

/** A JVM that owns a pool, prints its workers' pids, and waits to be killed (for ParentDeathTest). */
public final class PoolOwnerMain {
    private PoolOwnerMain() {}

    /**
     * @param args {@code exit} to exit normally at once instead of waiting to be killed
     * @throws Exception never expected
     */
    public static void main(String[] args) throws Exception {
        Pool pool = Pool.processes(2);
        var pids = new TreeSet<Long>();
        while (pids.size() < 2) {
            List<Long> seen = pool.map((Integer x) -> {
                long end = System.nanoTime() + 20_000_000;
                while (System.nanoTime() < end) {
                    Thread.onSpinWait(); // keep this worker busy so the other takes a task too
                }
                return ProcessHandle.current().pid();
            }, IntStream.range(0, 4).boxed().toList(), 1);
            pids.addAll(seen);
        }
        System.out.println("WORKERS " + pids.first() + " " + pids.last());
        System.out.flush();
        if (args.length > 0 && args[0].equals("exit")) {
            System.exit(0); // without closing the pool: the shutdown hook must stop the workers
        }
        System.in.read(); // wait for the test to kill us
    }
}
