package io.multiproc4j.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Pins what the module exports, so the public surface never grows by accident. */
class ModuleTest {
    @Test
    void exportsOnlyTheApiPackage() {
        ModuleDescriptor module = ModuleFinder.of(Path.of("target/classes")).find("io.multiproc4j.cluster")
                .orElseThrow().descriptor();
        assertThat(module.exports()).extracting(e -> e.source() + (e.isQualified() ? " to " + e.targets() : ""))
                .containsExactly("io.multiproc4j.cluster");
        assertThat(module.requires()).extracting(ModuleDescriptor.Requires::name)
                .contains("io.multiproc4j", "com.hazelcast.core");
    }
}
