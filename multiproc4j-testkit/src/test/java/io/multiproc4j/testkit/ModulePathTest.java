package io.multiproc4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Workers start right when multiproc4j is a named module on the module path. */
@Deadline(seconds = 60)
class ModulePathTest {

    @Test
    void processPool_worksWhenMultiproc4jIsANamedModule() throws Exception {
        List<String> classPath = Arrays.asList(System.getProperty("java.class.path").split(File.pathSeparator));
        Path coreJar = classPath.stream().map(Path::of)
                .filter(p -> p.getFileName().toString().matches("multiproc4j-core-.*\\.jar")).findFirst().orElse(null);
        assumeTrue(coreJar != null && Files.isRegularFile(coreJar),
                "multiproc4j-core is on the class path as a directory, not a jar (run `verify`, not `test`)");
        String rest = classPath.stream().filter(p -> !p.equals(coreJar.toString())).collect(Collectors.joining(File.pathSeparator));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process owner = new ProcessBuilder(java, "--module-path", coreJar.toString(), "--add-modules", "io.multiproc4j",
                "-cp", rest, ModulePathOwnerMain.class.getName()).redirectErrorStream(true).start();
        try {
            String output = new String(owner.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(owner.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(output).contains("module io.multiproc4j").contains("RESULT [1:io.multiproc4j, 2:io.multiproc4j]");
            assertThat(owner.exitValue()).as(output).isZero();
        } finally {
            owner.destroyForcibly();
        }
    }
}
