package io.multiproc4j.internal.supervise;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.Pool;
import io.multiproc4j.SerializableFunction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A program that uses a process pool, run without {@code --enable-native-access}, gets its results
 * and no restricted-method warning, and links no downcall on the way to its first result. With the
 * TCP lifeline (the default) the pool asks nothing of the peer's socket; with the Unix-domain one
 * its worker connections read the peer's user (which decides) but not its pid (a descriptor search
 * through an FFM downcall, for a DEBUG line only).
 */
public class PoolStartNativeAccessTest {
    /** The user's program: one pool, one task. */
    public static final class OnePoolProgram {
        private OnePoolProgram() {}

        /**
         * @param args unused
         * @throws Exception when the pool fails
         */
        public static void main(String[] args) throws Exception {
            SerializableFunction<Integer, Integer> plusOne = x -> x + 1;
            try (Pool pool = Pool.processes(1)) {
                System.out.println("result " + pool.applyAsync(plusOne, 41).get(120, TimeUnit.SECONDS));
            }
        }
    }

    @Test
    void aProgramWithoutNativeAccess_getsItsResult_withoutARestrictedMethodWarning() throws Exception {
        for (String lifeline : new String[] {"tcp", "unix"}) {
            String output = runOnePoolProgram(lifeline);
            assertThat(output).as(lifeline).contains("result 42")
                    .doesNotContain("Initializing 'io/multiproc4j/internal/transport/PeerCredentials$Native'")
                    .doesNotContain("restricted method");
            if (lifeline.equals("unix")) {
                assertThat(output).as("the peer's user is read").contains("Initializing 'io/multiproc4j/internal/transport/PeerCredentials'");
            }
        }
    }

    private static String runOnePoolProgram(String lifeline) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process program = new ProcessBuilder(java, "-Xshare:auto", "-Xlog:class+init=info", "-D" + Lifeline.PROPERTY + "=" + lifeline,
                "-cp", System.getProperty("java.class.path"), OnePoolProgram.class.getName())
                .redirectErrorStream(true).start();
        try {
            String output = new String(program.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(program.waitFor(120, TimeUnit.SECONDS)).as("the program exited").isTrue();
            assertThat(program.exitValue()).as(output).isZero();
            return output;
        } finally {
            program.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }
}
