package io.multiproc4j.cli.tour;

import io.multiproc4j.cli.report.Progress;
import io.multiproc4j.cli.report.Section;
import io.multiproc4j.cli.report.Table;
import io.multiproc4j.diagnostics.Topology;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The talk's experiments, in order. To add one, implement {@link Experiment} and list it in
 * {@link #experiments()}.
 */
public final class Tour {
    private Tour() {}

    /** @return every experiment of the tour, in the order they run */
    public static List<Experiment> experiments() {
        return List.of(
                new VectorExperiment(false),
                new VectorExperiment(true),
                new ChunkSweepExperiment(),
                new AmdahlExperiment(),
                new OversubscriptionExperiment(),
                new HyperThreadingExperiment(),
                new IoBoundExperiment(),
                new MapImapExperiment(),
                new SharedCounterExperiment(),
                new ManagerVsSharedExperiment(),
                new QueueVsPipeExperiment(),
                new PipeTrapExperiment(),
                new DeadlockExperiment(),
                new StoppingExperiment(),
                // right after the two sections that tolerate background starts (deadlock, stopping), during
                // which their JVMs start, so they never wait idle through a timed section
                new ClusterExperiment(),
                new ServerExperiment(),
                new AsyncParallelExperiment(),
                new RecommendationExperiment());
    }

    /**
     * What a tour measured.
     * @param sections the sections, in order
     * @param python   Python's figures (or why there are none)
     * @param failed   how many experiments failed (each is a section saying why)
     */
    public record Result(List<Section> sections, PythonFigures python, int failed) {}

    /**
     * Runs experiments one after another, sharing pools between them.
     * @param experiments   what to run
     * @param mode          the sizes
     * @param topology      the machine
     * @param comparePython whether to measure Python's side first (python3 on the PATH)
     * @param err           where the progress bar goes
     * @param onSection     called with each section as soon as it is measured
     * @return the sections and Python's figures
     */
    public static Result run(List<Experiment> experiments, TourContext.Mode mode, Topology topology,
                             boolean comparePython, PrintStream err, Consumer<Section> onSection) {
        List<Section> sections = new ArrayList<>();
        Progress progress = new Progress(err, 1);
        int failed = 0;
        PythonFigures python;
        try (TourContext ctx = new TourContext(mode, topology, progress)) {
            if (comparePython) {
                progress.note("tour: measuring Python's multiprocessing side first (python3 on the PATH)...");
                python = PythonFigures.run(experiments, ctx, mode.name().equals("full") ? 300 : 150);
                progress.note(python.measured() ? "tour: Python " + python.version() + " measured"
                        : "tour: " + python.note(""));
            } else {
                python = PythonFigures.notRequested();
            }
            ctx.python(python);
            int steps = experiments.stream().mapToInt(e -> e.steps(ctx)).sum();
            progress.reset(steps);
            int planned = 0;
            Set<String> earlyStarted = new HashSet<>();
            double waitedMs = 0;
            StringBuilder times = new StringBuilder();
            double sum = 0;
            double cpuSum = 0;
            for (int i = 0; i < experiments.size(); i++) {
                Experiment e = experiments.get(i);
                planned += e.steps(ctx);
                List<String> starting = List.of();
                if (e.toleratesBackgroundStarts()) {
                    // start the later sections' member JVMs now, while this section needs no idle core
                    for (Experiment later : experiments.subList(i + 1, experiments.size())) {
                        if (earlyStarted.add(later.id())) {
                            later.startEarly(ctx);
                        }
                    }
                    starting = ctx.beginOverlap(e.id());
                } else {
                    double waited = ctx.awaitStarts();
                    waitedMs += waited;
                    if (waited >= 100) {
                        progress.note(String.format(Locale.ROOT, "tour: waited %.1f s for the JVMs started early"
                                + " before %s", waited / 1e3, e.id()));
                    }
                }
                long t0 = System.nanoTime();
                double cpu0 = CpuClock.treeSeconds();
                Section s;
                try {
                    s = e.run(ctx);
                    if (!starting.isEmpty()) {
                        s = new Section(s.id(), s.title(), s.table(), s.interpretation() + "\n"
                                + backgroundNote(starting), s.chart());
                    }
                } catch (Exception | Error x) {
                    failed++;
                    Table t = new Table("experiment", "failure");
                    t.row(e.id(), x.getClass().getSimpleName());
                    s = new Section(e.id(), e.description() + " (failed)", t, "This experiment failed, so it has no"
                            + " figures: " + x.getClass().getSimpleName() + ": " + firstLine(String.valueOf(x.getMessage()))
                            + ". Set MULTIPROC_DEBUG=1 for the stack trace.", null);
                    if (System.getenv("MULTIPROC_DEBUG") != null) {
                        x.printStackTrace(err);
                    }
                }
                double took = (System.nanoTime() - t0) / 1e9;
                double cpu = CpuClock.treeSeconds() - cpu0;
                sum += took;
                cpuSum += Double.isNaN(cpu) ? 0 : cpu;
                times.append(times.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT, "%s %.1f", e.id(), took));
                progress.catchUp(planned, e.id() + " done");
                progress.note(String.format(Locale.ROOT, "tour: %s took %.1f s%s", e.id(), took, Double.isNaN(cpu) ? ""
                        : String.format(Locale.ROOT, ", %.1f s of CPU in the tour's processes", cpu)));
                s = s.withCommand(reproduce(e.id(), mode, comparePython)).withSeconds(took);
                sections.add(s);
                progress.finish();
                onSection.accept(s);
            }
            double cpuAll = CpuClock.treeSeconds();
            progress.note(String.format(Locale.ROOT, "tour: %d section(s) took %.1f s (%s s)%s%s; %s",
                    experiments.size(), sum, times, waitedMs >= 100 ? String.format(Locale.ROOT, ", plus %.1f s waiting"
                    + " for JVMs started early", waitedMs / 1e3) : "", Double.isNaN(cpuAll) ? ""
                    : String.format(Locale.ROOT, "; CPU: %.1f s in the sections, %.1f s in all so far (this JVM and"
                    + " its worker JVMs)", cpuSum, cpuAll), jvmAge()));
        } finally {
            progress.finish();
        }
        return new Result(sections, python, failed);
    }

    /**
     * @param id            an experiment
     * @param mode          the sizes
     * @param comparePython whether Python was measured
     * @return the command that measures that section again
     */
    static String reproduce(String id, TourContext.Mode mode, boolean comparePython) {
        return "bin/multiproc tour --only " + id + (mode.name().equals("quick") ? " --quick"
                : mode.name().equals("tiny") ? " --tiny" : "") + (comparePython ? " --compare-python" : "");
    }

    /**
     * @param starting the ids of the later sections whose JVMs were starting while a section ran
     * @return the sentence that says so under that section
     */
    static String backgroundNote(List<String> starting) {
        return "While this section ran, the JVMs of the later " + Readings.and(starting) + " section"
                + (starting.size() == 1 ? " were" : "s were") + " starting in the background: what it shows does not"
                + " depend on idle cores, but any time it reports includes sharing the cores with those starts.";
    }

    /** @return this JVM's age, as words */
    private static String jvmAge() {
        return ProcessHandle.current().info().startInstant().map(t -> String.format(Locale.ROOT,
                "%.1f s since the tour's JVM started", Duration.between(t, Instant.now()).toMillis() / 1e3))
                .orElse("");
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
