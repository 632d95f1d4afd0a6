package io.multiproc4j.internal.codec;

import java.io.ObjectInputFilter;
import java.nio.channels.spi.SelectorProvider;
import java.security.Security;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The JVM-wide deserialization filter ({@link ObjectInputFilter.Config#getSerialFilter()}) as
 * {@link LambdaCodec} asks it, without initializing {@code Config} in a new worker while the answer
 * is known to be "none".
 *
 * <p>Why: {@code Config}'s class initialization gets a {@code System.Logger}, and the JVM's first
 * logger lookup is a {@code ServiceLoader<LoggerFinder>} over the whole class path, which opens and
 * indexes every jar in cold code: measured, 60 ms of a new worker's 170 ms of CPU to its first
 * result (bench class path, 8 jars), spent on the worker's first function.
 *
 * <p>The rule, from JDK 25's {@code ObjectInputFilter.Config}: its filter is null unless (1) its
 * static initializer made one from the {@code jdk.serialFilter} system property (the value at JVM
 * start) or else the security property of that name, or (2) {@code Config.setSerialFilter} set
 * one, which needs {@code Config} initialized and code that calls it, or (3) a
 * {@code jdk.serialFilterFactory} class (system or security property), loaded by that initializer,
 * did (2) from its own initialization. The JDK itself never calls {@code setSerialFilter}. So in a
 * JVM where only the JDK's and multiproc4j's code has run, and none of those four properties is set,
 * the filter is null, whether {@code Config} is initialized or not. A worker declares that state with
 * {@link #openBeforeUserCode()} once it has connected and made the standard codec; the window closes
 * for good at the first place user code may run: the first lambda decoded (its captured values and
 * its {@code $deserializeLambda$} run user code; its own check still uses the window), any JDK
 * serialization stream ({@code readObject}). Everything after asks {@code Config} as before. Code
 * that runs before {@code main} (agents, a system class loader, a file system or selector provider
 * named on the command line) keeps the window shut: see {@link #startedClean}.
 *
 * <p>Concurrency: the window is an {@link AtomicBoolean} taken once; any thread may close it.
 */
public final class JvmSerialFilter {
    private static final AtomicBoolean BEFORE_USER_CODE = new AtomicBoolean();

    /** Options by which code other than the JDK's can run before {@code main}. */
    private static final List<String> CODE_BEFORE_MAIN = List.of(
            "-javaagent", "-agentlib", "-agentpath", "-Xrun", "@", "-XX:VMOptionsFile", "-XX:Flags",
            "-Djava.system.class.loader", "-Djava.nio.file.spi.DefaultFileSystemProvider");

    private JvmSerialFilter() {}

    /**
     * Called by a worker after it connected and made the standard codec, before it decodes anything:
     * opens the window when nothing but the JDK and multiproc4j can have run in this JVM and no
     * property can make a JVM-wide filter.
     *
     * @return whether the window is open
     */
    public static boolean openBeforeUserCode() {
        boolean clean = startedClean(ProcessHandle.current().info().arguments(), System::getenv)
                && System.getProperty("jdk.serialFilter") == null
                && System.getProperty("jdk.serialFilterFactory") == null
                // Security is initialized by then (the worker's Unix-domain socket needs SecureRandom)
                && Security.getProperty("jdk.serialFilter") == null
                && Security.getProperty("jdk.serialFilterFactory") == null
                && SelectorProvider.provider().getClass().getModule() == Object.class.getModule();
        BEFORE_USER_CODE.set(clean);
        return clean;
    }

    /**
     * @param arguments this JVM's command line after the {@code java} executable, when the OS says
     * @param env       the environment, for the JVM's and launcher's option variables
     * @return whether no option runs code before {@code main}: no agent, no argument file, no system
     *     class loader or default file system provider of the user's
     */
    static boolean startedClean(Optional<String[]> arguments, java.util.function.UnaryOperator<String> env) {
        if (arguments.isEmpty()) {
            return false; // not known: assume the worst
        }
        for (String argument : arguments.get()) {
            if (runsCodeBeforeMain(argument)) {
                return false;
            }
        }
        for (String variable : List.of("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS")) {
            String value = env.apply(variable);
            if (value != null) {
                for (String option : CODE_BEFORE_MAIN) {
                    if (value.contains(option)) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    private static boolean runsCodeBeforeMain(String argument) {
        for (String option : CODE_BEFORE_MAIN) {
            if (argument.startsWith(option)) {
                return true;
            }
        }
        return false;
    }

    /** Closes the window: user code may run from here on. */
    static void userCodeMayRun() {
        BEFORE_USER_CODE.set(false);
    }

    /**
     * Takes the window: while it is open, the JVM-wide filter is known to be null and
     * {@code Config} is not asked; the window closes, as the caller goes on to run user code.
     *
     * @return the JVM-wide filter, or null
     * @throws IllegalStateException when {@code jdk.serialFilter} is invalid (as {@code Config} throws)
     */
    static ObjectInputFilter takeForLambda() {
        if (BEFORE_USER_CODE.getAndSet(false)) {
            return null;
        }
        return ObjectInputFilter.Config.getSerialFilter();
    }
}
