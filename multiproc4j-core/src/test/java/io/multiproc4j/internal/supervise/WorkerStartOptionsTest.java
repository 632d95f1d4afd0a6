package io.multiproc4j.internal.supervise;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.Pool;
import io.multiproc4j.SerializableFunction;
import io.multiproc4j.internal.worker.WorkerMain;
import java.nio.channels.spi.SelectorProvider;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The options that shorten a worker's start: the JDK's selector provider is named on its command
 * line (so its first socket does not run a ServiceLoader over the class path), a user's own choice
 * wins, and a real worker started so connects, runs tasks and uses that provider.
 */
class WorkerStartOptionsTest {
    private static final String PROPERTY = "java.nio.channels.spi.SelectorProvider";
    private static final String MAIN = WorkerMain.class.getName();

    @Test
    void aWorkerCommand_namesTheJdksOwnSelectorProvider() {
        String provider = SelectorProvider.provider().getClass().getName();
        assertThat(JvmCommand.forMain(List.of(), MAIN, null)).contains("-D" + PROPERTY + "=" + provider);
    }

    @Test
    void aUsersSelectorProviderOption_comesAfterOurs_soTheUsersWins() {
        String users = "-D" + PROPERTY + "=com.example.TheirProvider";
        List<String> command = JvmCommand.forMain(List.of(users), MAIN, null);
        int ours = command.indexOf("-D" + PROPERTY + "=" + SelectorProvider.provider().getClass().getName());
        assertThat(ours).isNotNegative();
        assertThat(command.indexOf(users)).isGreaterThan(ours);
    }

    @Test
    void aRealWorker_doesNotWaitAtExitForThreadsInNativeCode() throws Exception {
        SerializableFunction<Integer, List<String>> jvmOptions = x ->
                List.copyOf(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
        try (Pool pool = Pool.processes(1)) {
            assertThat(pool.applyAsync(jvmOptions, 0).get(120, TimeUnit.SECONDS)).contains("-XX:UserThreadWaitAttemptsAtExit=0");
        }
    }

    @Test
    void aRealWorker_startedWithTheOption_usesTheJdksProvider_andRunsTasks() throws Exception {
        SerializableFunction<Integer, String> providerInWorker = x ->
                System.getProperty("java.nio.channels.spi.SelectorProvider") + " " + SelectorProvider.provider().getClass().getName() + " " + (x + 1);
        String expected = SelectorProvider.provider().getClass().getName();
        try (Pool pool = Pool.processes(1)) {
            assertThat(pool.applyAsync(providerInWorker, 41).get(120, TimeUnit.SECONDS))
                    .isEqualTo(expected + " " + expected + " 42");
            assertThat(pool.map(x -> x * 2, List.of(1, 2, 3))).containsExactly(2, 4, 6);
        }
    }
}
