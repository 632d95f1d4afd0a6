package io.multiproc4j.testkit;

import io.multiproc4j.Pool;
import java.util.List;

/** Runs a process pool from a JVM where multiproc4j is a named module (for ModulePathTest). */
public final class ModulePathOwnerMain {
    private ModulePathOwnerMain() {}

    /**
     * @param args unused
     */
    public static void main(String[] args) {
        System.out.println("module " + Pool.class.getModule().getName());
        try (Pool pool = Pool.processes(1)) {
            List<String> out = pool.map((Integer x) -> x + ":" + io.multiproc4j.SerializableFunction.class.getModule().getName(),
                    List.of(1, 2));
            System.out.println("RESULT " + out);
        }
    }
}
