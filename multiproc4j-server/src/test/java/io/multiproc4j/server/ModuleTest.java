package io.multiproc4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ModuleTest {
    @Test
    void exportsOnlyTheApiPackage_soTheSurfaceNeverGrowsByAccident() throws Exception {
        Path classes = Path.of(Supervisor.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        ModuleDescriptor module = ModuleFinder.of(classes).findAll().iterator().next().descriptor();
        assertThat(module.name()).isEqualTo("io.multiproc4j.server");
        assertThat(module.exports()).extracting(ModuleDescriptor.Exports::source).containsExactly("io.multiproc4j.server");
        assertThat(module.exports()).noneMatch(ModuleDescriptor.Exports::isQualified);
    }
}
