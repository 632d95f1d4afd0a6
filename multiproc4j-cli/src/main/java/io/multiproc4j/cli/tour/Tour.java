package io.multiproc4j.cli.tour;

import io.multiproc4j.cli.report.Progress;
import io.multiproc4j.cli.report.Section;
import io.multiproc4j.cli.report.Table;
import io.multiproc4j.diagnostics.Topology;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
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
                new AsyncParallelExperiment(),
                new ClusterExperiment(),
                new ServerExperiment(),
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
            for (Experiment e : experiments) {
                planned += e.steps(ctx);
                Section s;
                try {
                    s = e.run(ctx);
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
                progress.catchUp(planned, e.id() + " done");
                s = s.withCommand(reproduce(e.id(), mode, comparePython));
                sections.add(s);
                progress.finish();
                onSection.accept(s);
            }
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

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
