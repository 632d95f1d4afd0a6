package io.multiproc4j.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TopologyTest {
    @Test
    void parseCpuList_readsKernelLists() {
        assertThat(Topology.parseCpuList("0-3,8,10-11")).containsExactly(0, 1, 2, 3, 8, 10, 11);
        assertThat(Topology.parseCpuList("5")).containsExactly(5);
        assertThat(Topology.parseCpuList("")).isEmpty();
        assertThat(Topology.parseCpuList("garbage")).isEmpty();
    }

    @Test
    void detect_agreesWithTheJvm() {
        Topology t = Topology.detect();
        int jvm = Runtime.getRuntime().availableProcessors();
        assertThat(t.availableProcessors()).isEqualTo(jvm);
        assertThat(t.logicalCpus()).isGreaterThanOrEqualTo(t.physicalCores()).isGreaterThanOrEqualTo(1);
        assertThat(t.cpuSetSize()).isGreaterThanOrEqualTo(jvm);
        assertThat(t.suggestedCpuBoundWorkers()).isBetween(1, jvm);
        assertThat(t.smt()).isEqualTo(t.threadsPerCore() > 1);
        assertThat(t.describe()).contains("logical CPUs", "physical cores", "suggested pools");
    }

    @Test
    void suggestions_useOneWorkerPerPhysicalCore_whenSmtIsOn() {
        Topology smt = new Topology(16, 8, 1, 1, "0-15", 16, -1, 16, "test");
        assertThat(smt.smt()).isTrue();
        assertThat(smt.threadsPerCore()).isEqualTo(2);
        assertThat(smt.suggestedCpuBoundWorkers()).isEqualTo(8);
        assertThat(smt.suggestedIoBoundWorkers()).isEqualTo(64);
        Topology restricted = new Topology(16, 8, 1, 1, "0-3", 4, -1, 4, "test");
        assertThat(restricted.suggestedCpuBoundWorkers()).isEqualTo(2);
        Topology plain = new Topology(4, 4, 1, 1, "0-3", 4, -1, 4, "test");
        assertThat(plain.suggestedCpuBoundWorkers()).isEqualTo(4);
    }
}
