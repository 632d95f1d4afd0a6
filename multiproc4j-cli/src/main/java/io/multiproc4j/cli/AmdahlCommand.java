package io.multiproc4j.cli;

import io.multiproc4j.cli.report.Chart;
import io.multiproc4j.cli.report.HtmlReport;
import io.multiproc4j.cli.report.Section;
import io.multiproc4j.cli.report.Table;
import io.multiproc4j.diagnostics.Amdahl;
import io.multiproc4j.diagnostics.Topology;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code multiproc amdahl}: speed-up tables from Amdahl's and Gustafson's laws, or from timings. */
@Command(name = "amdahl", mixinStandardHelpOptions = true,
        description = {"Speed-up predicted by Amdahl's law (fixed problem) and Gustafson's law (problem grows with"
                + " the workers) for a parallel fraction P on 1..N cores.",
                "With --measure FILE (lines 'workers seconds', one worker included), the measured speed-ups, the"
                + " Karp-Flatt serial fraction and the P that fits them."})
final class AmdahlCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--parallel", paramLabel = "P",
            description = "Parallel fraction of the work, 0..1 (0.95 = 95 %%). Optional with --measure.")
    Double parallel;

    @Option(names = "--cores", paramLabel = "RANGE", defaultValue = "1..64",
            description = "Worker counts: a range 1..64 (shown as powers of two and the end), a list 1,2,4,8, or one"
                    + " number (default: ${DEFAULT-VALUE}).")
    String cores;

    @Option(names = "--measure", paramLabel = "FILE",
            description = "Timings to read: one 'workers seconds' pair per line ('#' starts a comment).")
    Path measure;

    @Option(names = "--report", paramLabel = "DIR", description = "Also write report.html (with a chart) and results.json here.")
    Path reportDir;

    @Override
    public Integer call() throws IOException {
        List<Integer> counts = parseCores(cores);
        TreeMap<Integer, Double> timings = measure == null ? null : readTimings(measure);
        if (parallel != null && !(parallel >= 0 && parallel <= 1)) {
            throw bad("--parallel must be between 0 and 1 (0.95 = 95 %), was " + parallel);
        }
        if (parallel == null && timings == null) {
            throw bad("give --parallel P (0..1) or --measure FILE");
        }
        double p;
        Table table;
        List<Double> measured = new ArrayList<>();
        List<Integer> measuredAt = new ArrayList<>();
        if (timings != null) {
            double t1 = timings.get(1);
            double sumE = 0;
            int nE = 0;
            for (var e : timings.entrySet()) {
                if (e.getKey() >= 2) {
                    sumE += Amdahl.karpFlatt(t1 / e.getValue(), e.getKey());
                    nE++;
                }
            }
            double fitted = nE == 0 ? 1.0 : Math.max(0, Math.min(1, 1 - sumE / nE));
            p = parallel != null ? parallel : fitted;
            table = new Table("workers", "seconds", "measured speed-up", "efficiency", "Karp-Flatt serial fraction",
                    "Amdahl predicts");
            for (var e : timings.entrySet()) {
                int w = e.getKey();
                double s = t1 / e.getValue();
                measured.add(s);
                measuredAt.add(w);
                table.row(w, e.getValue(), s, s / w, w >= 2 ? Amdahl.karpFlatt(s, w) : null, Amdahl.speedup(p, w));
            }
            System.out.printf(Locale.ROOT, "Measured: the parallel fraction that fits best (mean of 1 - Karp-Flatt) is"
                    + " P = %.3f%s.%n%n", fitted, parallel != null ? String.format(Locale.ROOT,
                    "; predictions below use the given P = %.3f", p) : "");
            System.out.print(table.render());
            System.out.println();
        } else {
            p = parallel;
        }
        Table laws = new Table("cores", "Amdahl speed-up", "efficiency", "Gustafson speed-up");
        double[] x = new double[counts.size()];
        double[] amdahl = new double[counts.size()];
        double[] gustafson = new double[counts.size()];
        for (int i = 0; i < counts.size(); i++) {
            int n = counts.get(i);
            x[i] = n;
            amdahl[i] = Amdahl.speedup(p, n);
            gustafson[i] = Amdahl.gustafson(p, n);
            laws.row(n, amdahl[i], amdahl[i] / n, gustafson[i]);
        }
        String reading = String.format(Locale.ROOT, "With P = %.3f no number of cores gives more than %s; at %d cores"
                + " Amdahl predicts %.2fx (%.0f %% efficiency). Gustafson's %.1fx assumes the problem grows with the cores.",
                p, p >= 1 ? "a linear speed-up" : String.format(Locale.ROOT, "%.1fx", Amdahl.limit(p)),
                counts.getLast(), amdahl[amdahl.length - 1], 100 * amdahl[amdahl.length - 1] / counts.getLast(),
                gustafson[gustafson.length - 1]);
        System.out.print(laws.render());
        System.out.println(reading);
        if (reportDir != null) {
            Chart chart = new Chart(String.format(Locale.ROOT, "Speed-up for P = %.3f", p), "cores", "speed-up (x)")
                    .series("Amdahl", x, amdahl, false).series("Gustafson", x, gustafson, false);
            if (!measured.isEmpty()) {
                chart.series("measured", measuredAt.stream().mapToDouble(Integer::doubleValue).toArray(),
                        measured.stream().mapToDouble(Double::doubleValue).toArray(), true);
            }
            Path html = HtmlReport.write(reportDir, "multiproc amdahl", Machine.facts(Topology.detect()),
                    List.of(new Section("amdahl", "Amdahl and Gustafson", laws, reading, chart)));
            System.out.println("Report: " + html.toAbsolutePath());
        }
        return 0;
    }

    private CommandLine.ParameterException bad(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    List<Integer> parseCores(String text) {
        List<Integer> counts = new ArrayList<>();
        try {
            if (text.contains("..")) {
                String[] ends = text.split("\\.\\.", -1);
                int from = Integer.parseInt(ends[0].trim());
                int to = Integer.parseInt(ends[1].trim());
                if (from < 1 || to < from) {
                    throw bad("--cores needs 1 <= FROM <= TO, was " + text);
                }
                if (to - from < 16) {
                    for (int n = from; n <= to; n++) {
                        counts.add(n);
                    }
                } else {
                    counts.add(from);
                    for (int n = Integer.highestOneBit(from) * 2; n < to; n *= 2) {
                        counts.add(n);
                    }
                    counts.add(to);
                }
            } else {
                for (String part : text.split(",")) {
                    int n = Integer.parseInt(part.trim());
                    if (n < 1) {
                        throw bad("--cores values must be at least 1, was " + n);
                    }
                    counts.add(n);
                }
            }
        } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
            throw bad("--cores must look like 1..64, 1,2,4,8 or 8; was '" + text + "'");
        }
        return counts.stream().distinct().sorted().toList();
    }

    private TreeMap<Integer, Double> readTimings(Path file) throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (NoSuchFileException e) {
            throw new UserError("--measure: no such file " + file);
        }
        TreeMap<Integer, Double> timings = new TreeMap<>();
        int lineNo = 0;
        for (String raw : lines) {
            lineNo++;
            String line = raw.replaceAll("#.*", "").trim();
            if (line.isEmpty()) {
                continue;
            }
            String[] parts = line.split("[\\s,;]+");
            try {
                int w = Integer.parseInt(parts[0]);
                double s = Double.parseDouble(parts[1]);
                if (w < 1 || !(s > 0)) {
                    throw new NumberFormatException();
                }
                timings.put(w, s);
            } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
                throw new UserError(file + " line " + lineNo + ": expected 'workers seconds' (e.g. '2 1.8'), was '" + raw + "'");
            }
        }
        if (!timings.containsKey(1)) {
            throw new UserError(file + ": needs a timing for 1 worker (the baseline of every speed-up)");
        }
        return timings;
    }
}
