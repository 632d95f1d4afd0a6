package io.multiproc4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.testkit.Conditions;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Server workers get an AOT cache of their own (core's {@code AotCache}, trained by
 * {@code ServerAotTrainer}) when the class path is all jars, as an application runs: a JVM started
 * from this test's class path packed into jars ({@link ServerAotProbe}) reports its worker's command
 * line and whether the JDK mapped the cache. The reactor's own test class path has directories
 * (target/classes), for which the JDK makes no cache: that is why the child.
 */
class ServerAotCacheTest {
    @Test
    void aServerWorkerFromJarsStartsWithoutACache_thenWithItsOwnOnceTrained_andARebuiltJarGetsANewOne(@TempDir Path tmp)
            throws Exception {
        Path cacheDir = tmp.resolve("aot");
        List<String> classPath = jarredClassPath(tmp.resolve("cp"));
        try {
            Map<String, String> first = probe(classPath, cacheDir, 1, tmp.resolve("run1"));
            assertThat(first.get("first-aot")).as("no cache before the training").isEqualTo("none");
            assertThat(first.get("second-aot")).as("the reloaded worker's cache").startsWith(cacheDir.toString())
                    .endsWith(".aot");
            assertThat(Path.of(first.get("second-aot"))).isRegularFile();
            assertThat(first.get("second-vm")).as("the JDK mapped it (a rejected cache leaves no sharing at all)")
                    .contains("sharing");

            // A rebuilt jar (the test classes, one entry more): the old cache is not used, a new one is trained.
            rebuildJar(Path.of(classPath.getFirst()));
            Map<String, String> second = probe(classPath, cacheDir, 2, tmp.resolve("run2"));
            assertThat(second.get("first-aot")).as("the old cache is for the old jar").isEqualTo("none");
            assertThat(second.get("second-aot")).startsWith(cacheDir.toString()).endsWith(".aot")
                    .isNotEqualTo(first.get("second-aot"));
            assertThat(second.get("second-vm")).contains("sharing");
        } finally {
            awaitTrainersGone(cacheDir);
        }
    }

    /** This JVM's class path with each directory packed into a jar of its own; the test classes' first. */
    private static List<String> jarredClassPath(Path dir) throws IOException {
        Files.createDirectories(dir);
        List<String> entries = new ArrayList<>();
        Path testClasses = Path.of(ServerAotProbe.class.getProtectionDomain().getCodeSource().getLocation().getPath());
        entries.add(testClasses.toString());
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!e.isEmpty() && !Path.of(e).equals(testClasses)) {
                entries.add(e);
            }
        }
        List<String> jars = new ArrayList<>();
        for (String e : entries) {
            Path p = Path.of(e);
            if (Files.isDirectory(p)) {
                Path jar = dir.resolve(jars.size() + "-" + p.getParent().getParent().getFileName() + "-" + p.getFileName() + ".jar");
                writeJar(p, jar, false);
                jars.add(jar.toString());
            } else if (Files.isRegularFile(p)) {
                jars.add(p.toString());
            }
        }
        return jars;
    }

    private static void writeJar(Path classes, Path jar, boolean marker) throws IOException {
        try (OutputStream file = Files.newOutputStream(jar); var out = new JarOutputStream(file);
             Stream<Path> walk = Files.walk(classes)) {
            for (Path p : walk.filter(Files::isRegularFile).sorted().toList()) {
                out.putNextEntry(new JarEntry(classes.relativize(p).toString().replace(File.separatorChar, '/')));
                Files.copy(p, out);
                out.closeEntry();
            }
            if (marker) {
                out.putNextEntry(new JarEntry("rebuilt.txt"));
                out.write(1);
                out.closeEntry();
            }
        }
    }

    private static void rebuildJar(Path jar) throws IOException {
        Path classes = Path.of(ServerAotProbe.class.getProtectionDomain().getCodeSource().getLocation().getPath());
        writeJar(classes, jar, true);
    }

    /** Runs {@link ServerAotProbe} from the jars and returns what it printed, as "key value" lines. */
    private static Map<String, String> probe(List<String> classPath, Path cacheDir, int caches, Path out) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Path stdout = Files.createFile(out.resolveSibling(out.getFileName() + ".out"));
        Path stderr = Files.createFile(out.resolveSibling(out.getFileName() + ".err"));
        Process p = new ProcessBuilder(java.toString(), "-Xmx256m", "--enable-native-access=ALL-UNNAMED",
                "-Dmultiproc4j.aot.dir=" + cacheDir, "-cp", String.join(File.pathSeparator, classPath),
                ServerAotProbe.class.getName(), Integer.toString(caches))
                .redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
        try {
            boolean done = p.waitFor(300, TimeUnit.SECONDS);
            String printed = Files.readString(stdout);
            assertThat(done).as("the probe finished; it printed: " + printed + Files.readString(stderr)).isTrue();
            assertThat(p.exitValue()).as("the probe's exit; it printed: " + printed + Files.readString(stderr)).isZero();
            Map<String, String> values = new HashMap<>();
            for (String line : printed.split("\n")) {
                int space = line.indexOf(' ');
                if (space > 0) {
                    values.put(line.substring(0, space), line.substring(space + 1).trim());
                }
            }
            return values;
        } finally {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** The trainers are detached JVMs (their arguments name the cache directory): ours end before the test does. */
    private static void awaitTrainersGone(Path cacheDir) {
        String dir = cacheDir.toString();
        try {
            Conditions.await("the AOT trainers exited", Duration.ofSeconds(120), () -> trainers(dir).isEmpty());
        } catch (AssertionError | Exception e) {
            trainers(dir).forEach(ProcessHandle::destroyForcibly);
        }
    }

    private static List<ProcessHandle> trainers(String dir) {
        return ProcessHandle.allProcesses()
                .filter(h -> h.info().arguments().map(a -> List.of(a).contains(dir)).orElse(false)).toList();
    }
}
