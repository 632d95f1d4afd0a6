package io.multiproc4j.cli;

import io.multiproc4j.cli.report.HtmlReport;
import io.multiproc4j.cli.report.Section;
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
        description = {"The talk's experiments, measured live on this machine: x + 1 over 1,000,000 integers"
                + " (sequential vs threads vs processes), the same 200x heavier, chunk sizes, Amdahl's law,"
                + " oversubscription, hyper-threading.",
                "Tables go to standard output, progress to standard error; writes report.html and results.json."})
final class TourCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--quick", description = "Smaller problems, a warm-up and two timed runs per figure: under a minute on 2 cores.")
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

    /** The experiment ids, for --help. */
    static final class ExperimentIds extends ArrayList<String> {
        private static final long serialVersionUID = 1L;

        ExperimentIds() {
            Tour.experiments().forEach(e -> add(e.id()));
        }
    }

    @Override
    public Integer call() throws Exception {
        List<Experiment> chosen = new ArrayList<>(Tour.experiments());
        if (only != null && !only.isEmpty()) {
            List<String> known = new ExperimentIds();
            for (String id : only) {
                if (!known.contains(id)) {
                    throw new CommandLine.ParameterException(spec.commandLine(),
                            "unknown experiment '" + id + "' for --only; known: " + String.join(", ", known));
                }
            }
            chosen.removeIf(e -> !only.contains(e.id()));
        }
        TourContext.Mode mode = tiny ? TourContext.Mode.TINY : quick ? TourContext.Mode.QUICK : TourContext.Mode.FULL;
        Topology topology = Topology.detect();
        PrintStream out = System.out;
        Map<String, Object> machine = Machine.facts(topology);
        machine.put("tour mode", mode.name());
        out.printf("multiproc tour (%s): %d usable processors, %d physical cores, SMT %s, Java %s%n%n", mode.name(),
                topology.availableProcessors(), topology.physicalCores(), topology.smt() ? "on" : "off",
                Runtime.version());
        List<Section> sections = Tour.run(chosen, mode, topology, System.err, s -> {
            out.println(s.render());
            out.flush();
        });
        Path html = HtmlReport.write(reportDir, "multiproc tour", machine, sections);
        out.println("Report: " + html.toAbsolutePath() + " (and results.json beside it)");
        return 0;
    }
}
