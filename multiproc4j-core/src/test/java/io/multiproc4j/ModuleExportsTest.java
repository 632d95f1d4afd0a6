package io.multiproc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The exported surface never grows by accident: adding a package here is a decision. */
class ModuleExportsTest {

    @Test
    void moduleExportsTheApiPackages_andInternalsOnlyToSiblingModules() throws Exception {
        ModuleDescriptor descriptor;
        try (InputStream in = Files.newInputStream(Path.of("target", "classes", "module-info.class"))) {
            descriptor = ModuleDescriptor.read(in);
        }
        Set<String> exported = new TreeSet<>();
        Set<String> qualified = new TreeSet<>();
        for (ModuleDescriptor.Exports e : descriptor.exports()) {
            if (e.isQualified()) {
                qualified.add(e.source() + " to " + String.join(",", new TreeSet<>(e.targets())));
            } else {
                exported.add(e.source());
            }
        }
        // internals reach sibling modules of this project only, by name
        assertThat(qualified).containsExactly(
                "io.multiproc4j.internal.supervise to io.multiproc4j.server",
                "io.multiproc4j.internal.transport to io.multiproc4j.server");
        assertThat(descriptor.name()).isEqualTo("io.multiproc4j");
        assertThat(exported).containsExactly(
                "io.multiproc4j",
                "io.multiproc4j.diagnostics",
                "io.multiproc4j.ipc",
                "io.multiproc4j.manager",
                "io.multiproc4j.shared",
                "io.multiproc4j.spi",
                "io.multiproc4j.sync");
        assertThat(exported).noneMatch(p -> p.contains(".internal"));
        assertThat(descriptor.requires()).noneMatch(r -> !r.name().startsWith("java.") && !r.name().startsWith("jdk."));
    }
}
