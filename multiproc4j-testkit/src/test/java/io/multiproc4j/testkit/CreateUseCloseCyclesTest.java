package io.multiproc4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.Pool;
import io.multiproc4j.ProcessPoolExecutor;
import io.multiproc4j.TaskExecutor;
import io.multiproc4j.ThreadExecutor;
import io.multiproc4j.ipc.Pipe;
import io.multiproc4j.ipc.ProcessQueue;
import io.multiproc4j.manager.Manager;
import io.multiproc4j.shared.SharedLongArray;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Each kind is created, used and closed many times; afterwards this JVM's descriptors, threads,
 * {@code /dev/shm} segments, socket directories and live heap are back at the baseline taken after
 * one warm-up cycle ({@link LeakCheck}, which states the JDK's slack). A leak of one descriptor or
 * thread per cycle shows as 200, far past the slack.
 *
 * <p>Cycles: 200 of each in-JVM kind. Kinds that start JVMs (a process pool, the process executor,
 * a started manager) run {@code mp4j.cycles.jvm} cycles (20 in CI, where each costs a JVM start on 2
 * cores; the {@code stress} profile runs 200).
 */
@Timeout(1500)
@Deadline(seconds = 1400)
class CreateUseCloseCyclesTest {
    private static final int CYCLES = Integer.getInteger("mp4j.cycles", 200);
    private static final int JVM_CYCLES = Integer.getInteger("mp4j.cycles.jvm", 20);

    private interface Cycle {
        void run() throws Exception;
    }

    private static void cycles(int count, Cycle cycle) throws Exception {
        cycle.run();  // warm-up: what the JDK loads and caches once is in the baseline
        LeakCheck leaks = LeakCheck.baseline();
        for (int i = 0; i < count; i++) {
            cycle.run();
        }
        Conditions.await("every child process has exited", Duration.ofSeconds(60),
                () -> ProcessHandle.current().children().findAny().isEmpty());
        leaks.assertBack(Duration.ofSeconds(60));
    }

    @Test
    void threadPools() throws Exception {
        cycles(CYCLES, () -> {
            try (Pool pool = Pool.threads(2)) {
                assertThat(pool.map(x -> x + 1, List.of(1, 2, 3))).containsExactly(2, 3, 4);
            }
        });
    }

    @Test
    void virtualThreadPools() throws Exception {
        cycles(CYCLES, () -> {
            try (Pool pool = Pool.virtualThreads()) {
                assertThat(pool.map(x -> x + 1, List.of(1, 2, 3))).containsExactly(2, 3, 4);
            }
        });
    }

    @Test
    void threadExecutors() throws Exception {
        cycles(CYCLES, () -> {
            try (TaskExecutor executor = ThreadExecutor.create(2)) {
                assertThat(executor.submit(() -> 42).get(30, TimeUnit.SECONDS)).isEqualTo(42);
            }
        });
    }

    @Test
    void processPools() throws Exception {
        cycles(JVM_CYCLES, () -> {
            try (Pool pool = Pool.processes(1)) {
                assertThat(pool.map(x -> x + 1, List.of(1, 2, 3))).containsExactly(2, 3, 4);
            }
        });
    }

    @Test
    void processExecutors() throws Exception {
        cycles(JVM_CYCLES, () -> {
            try (TaskExecutor executor = ProcessPoolExecutor.create(1)) {
                assertThat(executor.submit(() -> 42).get(60, TimeUnit.SECONDS)).isEqualTo(42);
            }
        });
    }

    @Test
    void queuesPipesAndSharedSegments() throws Exception {
        cycles(CYCLES, () -> {
            try (ProcessQueue<String> queue = ProcessQueue.create(16)) {
                queue.put("x");
                assertThat(queue.take()).isEqualTo("x");
            }
            Pipe<String> pipe = Pipe.duplex();
            try {
                pipe.left().send("hello");
                assertThat(pipe.right().receive()).isEqualTo("hello");
            } finally {
                pipe.close();
            }
            try (SharedLongArray array = SharedLongArray.create(128)) {
                array.set(7, 3);
                assertThat(array.get(7)).isEqualTo(3);
            }
        });
    }

    @Test
    void servedManagersAndTheirClients() throws Exception {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        cycles(CYCLES, () -> {
            try (Manager server = Manager.serve(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), key);
                    Manager client = Manager.connect(server.address(), key)) {
                ConcurrentMap<String, Integer> map = client.map("m");
                map.put("k", 1);
                assertThat(server.<String, Integer>map("m").get("k")).isEqualTo(1);
            }
        });
    }

    @Test
    void startedManagers() throws Exception {
        cycles(JVM_CYCLES, () -> {
            try (Manager manager = Manager.start()) {
                assertThat(manager.<String, Integer>map("m").put("k", 1)).isNull();
            }
        });
    }
}
