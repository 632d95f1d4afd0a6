package io.multiproc4j.cli;

import io.multiproc4j.diagnostics.Topology;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code multiproc topology}: what the CPUs are and what pool sizes to use. */
@Command(name = "topology", mixinStandardHelpOptions = true,
        description = "Physical cores, logical CPUs, SMT, sockets, NUMA nodes, the CPU set and cgroup quota this"
                + " process may use, and suggested pool sizes for CPU-bound and I/O-bound work.")
final class TopologyCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.out.print(Topology.detect().describe());
        return 0;
    }
}
