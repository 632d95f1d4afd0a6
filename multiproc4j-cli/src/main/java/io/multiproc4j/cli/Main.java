package io.multiproc4j.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The {@code multiproc} command. Exit codes: 0 done, 1 a failure while running, 2 bad arguments,
 * 3 ({@code deadlocks}) deadlocked threads were found. Errors are one line on standard error;
 * set {@code MULTIPROC_DEBUG=1} for the stack trace.
 */
@Command(name = "multiproc", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Parallel Java on threads and worker JVMs: the talk's experiments, benchmarks and insight tools.",
        subcommands = {TourCommand.class, BenchCommand.class, TopologyCommand.class, AmdahlCommand.class,
                DeadlocksCommand.class, ManagerCommand.class, WorkerCommand.class, LaunchCommand.class, ServeCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    /** Exit code when arguments are wrong. */
    public static final int BAD_ARGUMENTS = 2;
    /** Exit code when running failed. */
    public static final int FAILED = 1;

    @Spec
    CommandSpec spec;

    /** Version from the jar's manifest, if any. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"multiproc " + (v == null ? "(development build)" : v) + " on Java "
                    + Runtime.version()};
        }
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /**
     * @param args the command line
     * @return a configured command line: one-line errors, exit codes as documented
     */
    public static CommandLine commandLine(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setParameterExceptionHandler((ex, badArgs) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("multiproc: " + firstLine(ex.getMessage()) + " (see: "
                    + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help)");
            return BAD_ARGUMENTS;
        });
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (System.getenv("MULTIPROC_DEBUG") != null) {
                ex.printStackTrace(cmd.getErr());
            }
            if (ex instanceof CommandLine.ParameterException pe) {
                cmd.getErr().println("multiproc: " + firstLine(pe.getMessage()) + " (see: "
                        + cmd.getCommandSpec().qualifiedName() + " --help)");
                return BAD_ARGUMENTS;
            }
            String message = ex instanceof UserError ? ex.getMessage()
                    : ex.getClass().getSimpleName() + ": " + firstLine(String.valueOf(ex.getMessage()));
            cmd.getErr().println("multiproc " + cmd.getCommandName() + ": " + firstLine(message));
            return FAILED;
        });
        return cl;
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /**
     * @param args the command line
     */
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
