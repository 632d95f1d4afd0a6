package io.multiproc4j.internal.supervise;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line of a worker JVM: this JVM's {@code java}, class path and module path, the
 * options that change how code links ({@code --add-opens}, {@code --enable-preview}, ...), our
 * defaults for a small and quick worker, then the user's options, which win; for a worker, the
 * {@link AotCache} option when one matches.
 */
public final class JvmCommand {
    /**
     * Worker defaults: small footprint, quick start, crash loudly on OOM so the pool can tell, and a
     * quick exit. {@code UserThreadWaitAttemptsAtExit=0}: at exit HotSpot otherwise waits up to 30 × 10 ms
     * for threads that are inside native code to block, and a worker always has one (its lifeline
     * blocked in a socket read; a server worker's poller): measured here, {@code System.exit} took
     * 340 ms with such a thread and 35–50 ms with the option. That is 0.3 s of every pool's close, of
     * every recycle's exit and of every server reload. The threads it would wait for never return
     * into Java once the worker decided to exit.
     */
    public static final List<String> DEFAULT_OPTIONS = List.of(
            "-XX:+UseSerialGC",
            "-XX:UserThreadWaitAttemptsAtExit=0",
            "-XX:+ExitOnOutOfMemoryError",
            "-XX:+DisplayVMOutputToStderr",
            "-XX:-UsePerfData",
            "-Xss512k",
            "-XX:ReservedCodeCacheSize=64m",
            "-Xshare:auto",
            "-Djava.awt.headless=true",
            "--enable-native-access=ALL-UNNAMED");

    private static final List<String> INHERITED_PREFIXES = List.of(
            "--add-opens", "--add-exports", "--add-reads", "--add-modules", "--enable-preview",
            "--enable-native-access", "--sun-misc-unsafe-memory-access", "-Djava.security.manager",
            "-Dmultiproc4j.transport"); // the spin of the rings (WorkerRings.SPIN_NANOS) is read on both sides

    private static final String SELECTOR_PROVIDER = "java.nio.channels.spi.SelectorProvider";

    private JvmCommand() {}

    /**
     * @param userOptions options for the worker JVM, after ours
     * @param mainClass   the class to run
     * @param moduleName  the module of {@code mainClass} when it runs as a named module, else null
     * @return the command
     */
    public static List<String> forMain(List<String> userOptions, String mainClass, String moduleName) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(DEFAULT_OPTIONS);
        String selector = selectorProviderOption();
        if (selector != null) {
            cmd.add(selector);
        }
        cmd.addAll(inheritedOptions());
        cmd.addAll(userOptions);
        String classPath = System.getProperty("java.class.path", "");
        AotCache.apply(cmd, userOptions, mainClass, classPath,
                moduleName != null ? System.getProperty("jdk.module.path", "") : "", moduleName); // perf: worker AOT cache
        if (!classPath.isEmpty()) {
            cmd.add("-cp");
            cmd.add(classPath);
        }
        String modulePath = System.getProperty("jdk.module.path", "");
        if (moduleName != null && !modulePath.isEmpty()) {
            cmd.add("--module-path");
            cmd.add(modulePath);
            cmd.add("--add-modules");
            cmd.add("ALL-MODULE-PATH");
            cmd.add("--enable-native-access=" + moduleName);
            cmd.add("-m");
            cmd.add(moduleName + "/" + mainClass);
        } else {
            cmd.add(mainClass);
        }
        return cmd;
    }

    /**
     * The JDK's own selector provider, named to the child: without the property, the first socket a
     * JVM opens looks the provider up with a {@link java.util.ServiceLoader} over the whole class
     * path, which opens and indexes every jar on it. Measured in a worker of the bench's class path
     * (8 jars): 60 ms of CPU of a 190 ms start (25 ms reading the jars' directories, the rest the JIT
     * compiling that code), before the worker could connect; a user's class path of a hundred jars
     * costs more. Named only when this JVM itself runs the JDK's built-in provider (a provider from
     * the class path stays found the ordinary way), and a user's {@code -D} of the same property,
     * later on the command line, wins.
     *
     * @return {@code -Djava.nio.channels.spi.SelectorProvider=<the JDK's class>}, or null
     */
    static String selectorProviderOption() {
        if (System.getProperty(SELECTOR_PROVIDER) != null) {
            return null; // this JVM's own choice: inherited below only if the user passes it on
        }
        Class<?> provider = java.nio.channels.spi.SelectorProvider.provider().getClass();
        return provider.getModule() == Object.class.getModule() ? "-D" + SELECTOR_PROVIDER + "=" + provider.getName() : null;
    }

    /** @return this JVM's options that the worker needs to link the same code the same way */
    static List<String> inheritedOptions() {
        List<String> inherited = new ArrayList<>();
        List<String> args = ManagementFactory.getRuntimeMXBean().getInputArguments();
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            for (String prefix : INHERITED_PREFIXES) {
                if (arg.startsWith(prefix)) {
                    inherited.add(arg);
                    boolean separateValue = arg.equals(prefix) && !arg.equals("--enable-preview")
                            && i + 1 < args.size();
                    if (separateValue) {
                        inherited.add(args.get(++i));
                    }
                    break;
                }
            }
        }
        return inherited;
    }
}
