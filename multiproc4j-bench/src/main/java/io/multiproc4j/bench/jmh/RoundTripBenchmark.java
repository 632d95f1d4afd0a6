package io.multiproc4j.bench.jmh;

import io.multiproc4j.Pool;
import io.multiproc4j.bench.Workloads;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The per-task round trip: {@code pool.applyAsync(x -> x + 1, 41).get()} on a warm pool of one
 * worker, for worker processes and, as the floor, platform threads. Average time per call.
 *
 * <p>Run: {@code ./mvnw -B -q -DskipTests package -pl multiproc4j-bench -am && java -cp
 * "multiproc4j-bench/target/multiproc4j-bench-0.1.0-SNAPSHOT.jar:multiproc4j-bench/target/lib/*"
 * org.openjdk.jmh.Main RoundTripBenchmark}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class RoundTripBenchmark {
    /** Which pool: worker JVMs or threads of this JVM. */
    @Param({"processes", "threads"})
    public String kind;

    private Pool pool;

    /** Starts a one-worker pool and warms it. */
    @Setup(Level.Trial)
    public void start() {
        pool = kind.equals("processes") ? Pool.processes(1) : Pool.threads(1);
        pool.map(Workloads.LIGHT, Workloads.inputs(1_000), 1);
    }

    /** Stops the pool. */
    @TearDown(Level.Trial)
    public void stop() {
        pool.close();
    }

    /**
     * @return the task's result, so that nothing is optimized away
     * @throws Exception when the task fails
     */
    @Benchmark
    public Integer applyAsyncGet() throws Exception {
        return pool.<Integer, Integer>applyAsync(Workloads.LIGHT, 41).get();
    }
}
