package io.multiproc4j.cli;

import io.multiproc4j.cli.report.HtmlReport;
import io.multiproc4j.cli.tour.Experiment;
import io.multiproc4j.cli.tour.Tour;
import io.multiproc4j.cli.tour.TourContext;
import io.multiproc4j.diagnostics.Topology;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code multiproc tour}: the talk's experiments, measured on this machine. */
@Command(name = "tour", mixinStandardHelpOptions = true,
        description = {"The talk's experiments, measured live on this machine (tour --list names them): sequential vs"
                + " threads vs processes, chunk sizes, Amdahl's law, oversubscription, hyper-threading, I/O-bound work,"
                + " map vs imap, races and locks, managers vs shared memory, queues and pipes, a cross-process"
                + " deadlock, stopping work, async + parallel, and what to use on this machine.",
                "Tables go to standard output, progress to standard error; writes report.html and results.json."})
final class TourCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--quick", description = "Smaller problems, a warm-up and two timed runs per figure: under 40 s on 2 cores.")
    boolean quick;

    @Option(names = "--tiny", hidden = true, description = "Seconds-long sizes for testing the command itself.")
    boolean tiny;

    @Option(names = "--report", paramLabel = "DIR", defaultValue = "reports/tour",
            description = "Where to write report.html and results.json (default: ${DEFAULT-VALUE}).")
    Path reportDir;

    @Option(names = "--only", paramLabel = "ID", split = ",",
            description = "Run only these experiments (comma-separated ids: ${COMPLETION-CANDIDATES}).",
            completionCandidates = ExperimentIds.class)
    List<String> only;

    @Option(names = "--list", description = "Print the experiments' ids and what each shows, and exit.")
    boolean list;

    @Option(names = "--compare-python", description = "Measure the same experiments with Python's multiprocessing"
            + " (python3 on the PATH) first, and show its figures beside ours.")
    boolean comparePython;

    /** The experiment ids, for --help. */
    static final class ExperimentIds extends ArrayList<String> {
        private static final long serialVersionUID = 1L;

        ExperimentIds() {
            Tour.experiments().forEach(e -> add(e.id()));
        }
    }

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        if (list) {
            for (Experiment e : Tour.experiments()) {
                out.printf("%-18s %s%n", e.id(), e.description());
            }
            return 0;
        }
        List<Experiment> chosen = new ArrayList<>(Tour.experiments());
        if (only != null && !only.isEmpty()) {
            List<String> known = new ExperimentIds();
            for (String id : only) {
                if (!known.contains(id.strip())) {
                    throw new CommandLine.ParameterException(spec.commandLine(),
                            "unknown experiment '" + id + "' for --only; known: " + String.join(", ", known));
                }
            }
            chosen.removeIf(e -> only.stream().noneMatch(id -> id.strip().equals(e.id())));
        }
        TourContext.Mode mode = tiny ? TourContext.Mode.TINY : quick ? TourContext.Mode.QUICK : TourContext.Mode.FULL;
        Topology topology = Topology.detect();
        Map<String, Object> machine = Machine.facts(topology);
        machine.put("tour mode", mode.name());
        out.printf("multiproc tour (%s): %d usable processors, %d physical cores, SMT %s, Java %s%n%n", mode.name(),
                topology.availableProcessors(), topology.physicalCores(), topology.smt() ? "on" : "off",
                Runtime.version());
        Tour.Result result = Tour.run(chosen, mode, topology, comparePython, System.err, s -> {
            out.println(s.render());
            out.flush();
        });
        machine.put("Python", result.python().measured() ? "Python " + result.python().version()
                + " (multiprocessing, measured in this run)" : result.python().note(""));
        machine.put("command", "bin/multiproc tour" + (mode == TourContext.Mode.QUICK ? " --quick"
                : mode == TourContext.Mode.TINY ? " --tiny" : "") + (comparePython ? " --compare-python" : "")
                + (only == null || only.isEmpty() ? "" : " --only " + String.join(",", only)));
        if (!result.python().measured()) {
            out.println(result.python().note("") + ".");
        }
        Path html = HtmlReport.write(reportDir, "multiproc tour", machine, result.sections());
        out.println("Report: " + html.toAbsolutePath() + " (and results.json beside it)");
        if (result.failed() > 0) {
            System.err.println("multiproc tour: " + result.failed() + " experiment(s) failed; their sections say why");
            return Main.FAILED;
        }
        return 0;
    }
}
