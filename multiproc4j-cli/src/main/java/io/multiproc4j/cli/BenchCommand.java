package io.multiproc4j.cli;

import io.multiproc4j.bench.SideBySide;
import io.multiproc4j.cli.report.Chart;
import io.multiproc4j.cli.report.HtmlReport;
import io.multiproc4j.cli.report.Section;
import io.multiproc4j.cli.report.Table;
import io.multiproc4j.diagnostics.Topology;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code multiproc bench}: the pool benchmarks, side by side with Python's multiprocessing. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Pool benchmarks in Java and, in the same run, the same workloads in Python's multiprocessing"
                + " (python3 on the PATH; skipped with a note when absent): medians, ratios, targets, the machine.",
                "Tables go to standard output, progress to standard error; writes report.html and results.json."})
final class BenchCommand implements Callable<Integer> {
    /** What to compare with. */
    enum Compare { python, none }

    @Option(names = "--compare", paramLabel = "WHAT", defaultValue = "python",
            description = "python (default) or none.")
    Compare compare;

    @Option(names = "--quick", description = "Fewer repetitions and smaller problems: about a minute.")
    boolean quick;

    @Option(names = "--tiny", hidden = true, description = "Seconds-long sizes for testing the command itself.")
    boolean tiny;

    @Option(names = "--report", paramLabel = "DIR", defaultValue = "reports/bench",
            description = "Where to write report.html and results.json (default: ${DEFAULT-VALUE}).")
    Path reportDir;

    @Override
    public Integer call() throws Exception {
        SideBySide.Mode mode = tiny ? SideBySide.Mode.TINY : quick ? SideBySide.Mode.QUICK : SideBySide.Mode.FULL;
        Topology topology = Topology.detect();
        Map<String, Object> machine = Machine.facts(topology);
        machine.put("bench mode", mode.name());
        SideBySide.Result result = SideBySide.run(mode, compare == Compare.python, System.err);
        machine.put("Python", result.pythonVersion() != null ? result.pythonVersion() : result.pythonNote());
        Table table = new Table("benchmark", "unit", "Java", "Python " + (result.pythonVersion() == null ? ""
                : result.pythonVersion()), "Java advantage", "target", "met");
        List<Double> advantages = new ArrayList<>();
        List<Double> xs = new ArrayList<>();
        int i = 1;
        for (SideBySide.Row row : result.rows()) {
            Double adv = row.javaAdvantage();
            table.row(row.what(), row.unit(), row.java(), row.python(), adv, row.target(),
                    row.target() == null ? null : row.met() ? "yes" : "NO");
            if (adv != null) {
                xs.add((double) i);
                advantages.add(adv);
            }
            i++;
        }
        long targets = result.rows().stream().filter(r -> r.target() != null).count();
        long met = result.rows().stream().filter(r -> r.target() != null && r.met()).count();
        String reading = String.format(Locale.ROOT, "%d of %d targets met on %d usable processors with Java %s%s.%s",
                met, targets, topology.availableProcessors(), Runtime.version(),
                result.pythonVersion() != null ? " against Python " + result.pythonVersion() + " in the same run" : "",
                result.pythonNote() != null ? " " + result.pythonNote() + "." : "");
        Section section = new Section("pools", "Pools: Java vs Python multiprocessing (" + mode.name() + ")", table,
                reading, advantages.isEmpty() ? null : new Chart("Java's advantage over Python (x, log; above 1: Java"
                + " better), by benchmark row", "benchmark row", "times better").logY().series("Java / Python",
                xs.stream().mapToDouble(Double::doubleValue).toArray(),
                advantages.stream().mapToDouble(Double::doubleValue).toArray(), true));
        System.out.println(section.render());
        Path html = HtmlReport.write(reportDir, "multiproc bench", machine, List.of(section));
        System.out.println("Report: " + html.toAbsolutePath() + " (and results.json beside it)");
        return 0;
    }
}
