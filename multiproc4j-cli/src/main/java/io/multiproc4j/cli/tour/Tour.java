package io.multiproc4j.cli.tour;

import io.multiproc4j.cli.report.Progress;
import io.multiproc4j.cli.report.Section;
import io.multiproc4j.diagnostics.Topology;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The talk's experiments, in order. To add one (the shared-counter race, queue vs pipe throughput),
 * implement {@link Experiment} and list it in {@link #experiments()}.
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
                new SharedCounterExperiment(),
                new QueueVsPipeExperiment());
    }

    /**
     * Runs experiments one after another, sharing pools between them.
     * @param experiments what to run
     * @param mode        the sizes
     * @param topology    the machine
     * @param err         where the progress bar goes
     * @param onSection   called with each section as soon as it is measured
     * @return the sections, in order
     * @throws Exception when an experiment fails
     */
    public static List<Section> run(List<Experiment> experiments, TourContext.Mode mode, Topology topology,
                                    PrintStream err, Consumer<Section> onSection) throws Exception {
        List<Section> sections = new ArrayList<>();
        Progress progress = new Progress(err, 1);
        try (TourContext ctx = new TourContext(mode, topology, progress)) {
            int steps = experiments.stream().mapToInt(e -> e.steps(ctx)).sum();
            progress.reset(steps);
            for (Experiment e : experiments) {
                Section s = e.run(ctx);
                sections.add(s);
                progress.finish();
                onSection.accept(s);
            }
        } finally {
            progress.finish();
        }
        return sections;
    }
}
