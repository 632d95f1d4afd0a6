package io.multiproc4j.internal.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.multiproc4j.Pool;
import io.multiproc4j.SerializableFunction;
import java.io.ObjectInputFilter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A new worker's first lambda is checked against the JVM-wide serialization filter without
 * initializing {@code ObjectInputFilter.Config} (which costs a class path scan), and every filter
 * the JDK would honour still is: one on the worker's command line, one in a security properties
 * file, one set by a task or an initializer with {@code Config.setSerialFilter}. Real worker JVMs.
 */
public class JvmSerialFilterTest {
    private static final String CONFIG_INIT = "Initializing 'java/io/ObjectInputFilter$Config'";
    private static final String GATE_INIT = "Initializing 'io/multiproc4j/internal/codec/JvmSerialFilter'";

    /** Lambdas captured in a class of their own, so a filter can reject exactly them. */
    static final class Rejected {
        private Rejected() {}

        static SerializableFunction<Integer, Integer> plusOne() {
            return x -> x + 1;
        }
    }

    private static final String REJECTED = Rejected.class.getName();

    /** Initialized by the first task when it runs: its line in the log comes after the decoding. */
    public static final class RanFirstTask {
        public static final int FACTOR = Integer.parseInt("2"); // not a constant: reading it initializes the class

        private RanFirstTask() {}
    }

    /** Run in a worker: sets a JVM-wide filter that rejects {@link Rejected}. */
    public static void rejectRejectedClass() {
        ObjectInputFilter.Config.setSerialFilter(info -> info.serialClass() != null
                && info.serialClass().getName().equals(REJECTED) ? ObjectInputFilter.Status.REJECTED
                : ObjectInputFilter.Status.UNDECIDED);
    }

    @Test
    void aNewWorkersFirstLambda_doesNotInitializeConfig_aLaterFunctionAsksIt(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("class-init.log");
        try (Pool pool = Pool.builder().processes(1).jvmOptions("-Xlog:class+init=info:file=" + log).build()) {
            assertThat(pool.applyAsync((Integer x) -> x * RanFirstTask.FACTOR, 21).get(120, TimeUnit.SECONDS)).isEqualTo(42);
            String afterFirst = waitForLine(log, "Initializing '" + RanFirstTask.class.getName().replace('.', '/') + "'");
            assertThat(afterFirst).contains(GATE_INIT).doesNotContain(CONFIG_INIT);

            // the control: a second function is decoded after user code ran, so Config is asked
            assertThat(pool.applyAsync((Integer x) -> x * 3, 2).get(120, TimeUnit.SECONDS)).isEqualTo(6);
            waitForLine(log, CONFIG_INIT);
        }
    }

    @Test
    void aFilterOnTheWorkersCommandLine_stillRejectsTheLambdasClass() throws Exception {
        try (Pool pool = Pool.builder().processes(1).jvmOptions("-Djdk.serialFilter=!" + REJECTED).build()) {
            assertRejected(pool);
            assertThat(pool.applyAsync((Integer x) -> x * 2, 21).get(120, TimeUnit.SECONDS)).isEqualTo(42);
        }
    }

    @Test
    void aFilterInASecurityPropertiesFile_stillRejectsTheLambdasClass(@TempDir Path dir) throws Exception {
        Path properties = Files.writeString(dir.resolve("filter.security"), "jdk.serialFilter=!" + REJECTED + "\n");
        try (Pool pool = Pool.builder().processes(1).jvmOptions("-Djava.security.properties=" + properties).build()) {
            assertRejected(pool);
            assertThat(pool.applyAsync((Integer x) -> x * 2, 21).get(120, TimeUnit.SECONDS)).isEqualTo(42);
        }
    }

    @Test
    void aFilterSetByATask_isHonouredForLaterFunctions() throws Exception {
        try (Pool pool = Pool.processes(1)) {
            SerializableFunction<Integer, Integer> setFilter = x -> {
                rejectRejectedClass();
                return x;
            };
            assertThat(pool.applyAsync(setFilter, 7).get(120, TimeUnit.SECONDS)).isEqualTo(7);
            assertRejected(pool);
        }
    }

    @Test
    void aFilterSetByTheInitializer_isHonouredForTheFirstFunction() throws Exception {
        try (Pool pool = Pool.builder().processes(1).initializer(JvmSerialFilterTest::rejectRejectedClass).build()) {
            assertRejected(pool);
        }
    }

    @Test
    void optionsThatRunCodeBeforeMain_keepTheWindowShut() {
        Map<String, String> none = Map.of();
        assertThat(JvmSerialFilter.startedClean(Optional.of(new String[] {"-Xss512k", "-cp", "a.jar", "Main"}), none::get))
                .isTrue();
        for (String option : new String[] {"-javaagent:agent.jar", "-agentlib:jdwp=transport=dt_socket",
                "-agentpath:/lib/a.so", "@args.txt", "-Djava.system.class.loader=x.Loader",
                "-Djava.nio.file.spi.DefaultFileSystemProvider=x.Fs", "-XX:VMOptionsFile=o.txt"}) {
            assertThat(JvmSerialFilter.startedClean(Optional.of(new String[] {option, "Main"}), none::get))
                    .as(option).isFalse();
        }
        Map<String, String> toolOptions = Map.of("JAVA_TOOL_OPTIONS", "-Dx=1 -javaagent:agent.jar");
        assertThat(JvmSerialFilter.startedClean(Optional.of(new String[] {"Main"}), toolOptions::get)).isFalse();
        assertThat(JvmSerialFilter.startedClean(Optional.empty(), none::get)).as("command line unknown").isFalse();
    }

    private static void assertRejected(Pool pool) {
        assertThatThrownBy(() -> pool.applyAsync(Rejected.plusOne(), 1).get(120, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .hasMessageContaining("rejected by jdk.serialFilter")
                .hasMessageContaining(REJECTED);
    }

    /** @return the log's text once it holds the line (the JVM writes it as it goes) */
    private static String waitForLine(Path log, String line) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (true) {
            String text = Files.exists(log) ? Files.readString(log) : "";
            if (text.contains(line)) {
                return text;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no \"" + line + "\" in " + log + " after 120 s:\n" + text);
            }
            Thread.sleep(50); // polling a file for a condition with a deadline, not a timing
        }
    }
}
