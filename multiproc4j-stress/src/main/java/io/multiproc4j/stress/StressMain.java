package io.multiproc4j.stress;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Runs the jcstress tests of this module: {@code org.openjdk.jcstress.Main} with the options given,
 * plus {@code -jvmArgsPrepend --enable-native-access=ALL-UNNAMED} (unless the caller passes its own
 * {@code -jvmArgsPrepend}) because the process lock blocks through {@code futex(2)} over the FFM
 * linker in the JVMs jcstress forks.
 *
 * <p>Typical use: {@code java -jar multiproc4j-stress/target/multiproc4j-stress-VERSION.jar -m quick}.
 * Every jcstress option works ({@code -t Regex} to select tests, {@code -m sanity|quick|default|tough},
 * {@code -h} for the list).
 */
public final class StressMain {
    private StressMain() {}

    /**
     * @param args jcstress options
     * @throws Exception what jcstress throws
     */
    public static void main(String[] args) throws Exception {
        List<String> options = new ArrayList<>(Arrays.asList(args));
        if (!options.contains("-jvmArgsPrepend")) {
            options.add("-jvmArgsPrepend");
            options.add("--enable-native-access=ALL-UNNAMED");
        }
        org.openjdk.jcstress.Main.main(options.toArray(String[]::new));
    }
}
