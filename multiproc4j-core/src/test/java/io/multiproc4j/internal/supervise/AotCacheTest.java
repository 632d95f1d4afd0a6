package io.multiproc4j.internal.supervise;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.internal.worker.WorkerMain;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cache key and the options a worker gets; training itself is measured by the bench's StartProbe. */
class AotCacheTest {
    private static final String MAIN = WorkerMain.class.getName();
    @TempDir
    Path dir;

    private static List<String> command(String... options) {
        List<String> command = new ArrayList<>(List.of("java", "-XX:+UseSerialGC", "-Xshare:auto"));
        command.addAll(List.of(options));
        return command;
    }

    @Test
    void key_changesWithTheContentsOfAClassPathJar_andNotOtherwise() throws Exception {
        Path jar = dir.resolve("app.jar");
        Files.writeString(jar, "version one");
        String first = AotCache.key(command(), MAIN, jar.toString(), "");
        assertThat(AotCache.key(command(), MAIN, jar.toString(), "")).isEqualTo(first);
        Files.writeString(jar, "version two");
        Files.setLastModifiedTime(jar, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 5_000));
        assertThat(AotCache.key(command(), MAIN, jar.toString(), "")).as("a rebuilt jar").isNotEqualTo(first);
        assertThat(AotCache.key(command("-Xmx1g"), MAIN, jar.toString(), "")).as("other JVM options")
                .isNotEqualTo(AotCache.key(command(), MAIN, jar.toString(), ""));
    }

    @Test
    void key_isNone_forAClassDirectory_whichTheJdkCannotCache() throws Exception {
        Path classes = Files.createDirectory(dir.resolve("classes"));
        assertThat(AotCache.key(command(), MAIN, classes.toString(), "")).as("an empty directory is fine").isNotNull();
        Files.writeString(classes.resolve("A.class"), "x");
        assertThat(AotCache.key(command(), MAIN, classes.toString(), "")).isNull();
    }

    @Test
    void aWorker_getsTheCacheOfItsKey_whenItExists_unlessTurnedOff() throws Exception {
        Path jar = dir.resolve("app.jar");
        Files.writeString(jar, "classes");
        String key = AotCache.key(command(), MAIN, jar.toString(), "");
        Path cacheDir = Files.createDirectory(dir.resolve("aot"));
        Files.writeString(cacheDir.resolve(key + ".aot"), "a cache");
        String before = System.getProperty(AotCache.DIR_PROPERTY);
        System.setProperty(AotCache.DIR_PROPERTY, cacheDir.toString());
        try {
            List<String> worker = command();
            AotCache.apply(worker, List.of(), MAIN, jar.toString(), "", null);
            assertThat(worker).contains("-XX:AOTCache=" + cacheDir.resolve(key + ".aot")).doesNotContain("-Xshare:auto");

            List<String> other = command();
            AotCache.apply(other, List.of(), "some.OtherMain", jar.toString(), "", null);
            assertThat(other).as("only workers").isEqualTo(command());

            System.setProperty(AotCache.PROPERTY, "off");
            List<String> off = command();
            AotCache.apply(off, List.of(), MAIN, jar.toString(), "", null);
            assertThat(off).as("the off switch").isEqualTo(command());
        } finally {
            System.clearProperty(AotCache.PROPERTY);
            if (before == null) {
                System.clearProperty(AotCache.DIR_PROPERTY);
            } else {
                System.setProperty(AotCache.DIR_PROPERTY, before);
            }
        }
    }

    @Test
    void theUsersOwnAotOptions_win_andOurSharingOptionMakesWayForThem() throws Exception {
        Path jar = dir.resolve("app.jar");
        Files.writeString(jar, "classes");
        List<String> user = List.of("-XX:AOTCacheOutput=" + dir.resolve("mine.aot"));
        List<String> worker = command(user.toArray(String[]::new));
        AotCache.apply(worker, user, MAIN, jar.toString(), "", null);
        assertThat(worker).containsExactly("java", "-XX:+UseSerialGC", user.getFirst());
    }

    @Test
    void aFileDigest_recordedInTheIndexByAnEarlierJvm_isReused_whileTheFilesMetadataMatches() throws Exception {
        Path cacheDir = Files.createDirectory(dir.resolve("aot-index"));
        Path recorded = dir.resolve("recorded.jar");
        Files.writeString(recorded, "contents A");
        var attributes = Files.readAttributes(recorded, java.nio.file.attribute.BasicFileAttributes.class);
        String fromIndex = "ab".repeat(32); // not the SHA-256 of "contents A": shows where the answer came from
        Files.writeString(cacheDir.resolve(AotCache.DIGEST_INDEX), fromIndex + "\t" + attributes.size() + "\t"
                + attributes.lastModifiedTime().to(java.util.concurrent.TimeUnit.NANOSECONDS) + "\t"
                + attributes.fileKey() + "\t" + recorded + "\n");
        String before = System.getProperty(AotCache.DIR_PROPERTY);
        System.setProperty(AotCache.DIR_PROPERTY, cacheDir.toString());
        try {
            assertThat(AotCache.digest(recorded)).as("recorded by an earlier JVM").isEqualTo(fromIndex);

            Path fresh = dir.resolve("fresh.jar");
            Files.writeString(fresh, "contents B");
            String computed = AotCache.digest(fresh);
            assertThat(computed).isEqualTo(java.util.HexFormat.of().formatHex(
                    java.security.MessageDigest.getInstance("SHA-256").digest("contents B".getBytes(java.nio.charset.StandardCharsets.UTF_8))));
            assertThat(Files.readString(cacheDir.resolve(AotCache.DIGEST_INDEX))).as("recorded for the next JVM")
                    .contains(computed + "\t").contains("\t" + fresh + "\n");

            Files.setLastModifiedTime(recorded, FileTime.fromMillis(Files.getLastModifiedTime(recorded).toMillis() + 5_000));
            assertThat(AotCache.digest(recorded)).as("touched: hashed again").isEqualTo(java.util.HexFormat.of().formatHex(
                    java.security.MessageDigest.getInstance("SHA-256").digest("contents A".getBytes(java.nio.charset.StandardCharsets.UTF_8))));
        } finally {
            if (before == null) {
                System.clearProperty(AotCache.DIR_PROPERTY);
            } else {
                System.setProperty(AotCache.DIR_PROPERTY, before);
            }
        }
    }
}
