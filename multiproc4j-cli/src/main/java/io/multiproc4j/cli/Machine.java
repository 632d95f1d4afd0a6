package io.multiproc4j.cli;

import io.multiproc4j.diagnostics.Topology;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** Facts about the machine that every report names, so figures can be compared. */
final class Machine {
    private Machine() {}

    static Map<String, Object> facts(Topology t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("usable processors (nproc)", t.availableProcessors());
        m.put("physical cores", t.physicalCores());
        m.put("logical CPUs", t.logicalCpus());
        m.put("SMT", t.smt() ? "on" : "off");
        m.put("JDK", System.getProperty("java.vm.name") + " " + Runtime.version());
        m.put("OS", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch"));
        m.put("measured at", Instant.now().toString());
        return m;
    }
}
