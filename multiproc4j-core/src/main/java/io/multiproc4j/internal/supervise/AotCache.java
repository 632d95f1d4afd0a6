package io.multiproc4j.internal.supervise;

import io.multiproc4j.Pool;
import io.multiproc4j.SerializableFunction;
import io.multiproc4j.WorkerOutput;
import io.multiproc4j.internal.worker.WorkerMain;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A JDK AOT cache (JEP 483/514/515: classes loaded and linked, method profiles) for worker JVMs, so
 * that a pool's workers start in about half the time.
 *
 * <pre>
 *  spawn a worker ─► key = SHA-256(java.home, VM version, the worker's JVM options and main class,
 *                                  every class path / module path file: path, size and contents)
 *      ├─ &lt;dir&gt;/&lt;key&gt;.aot exists ─► add -XX:AOTCache=&lt;that file&gt;
 *      └─ missing ─► start the worker without one; once per key and JVM, start a trainer JVM
 *                    (detached, nice 10), which takes &lt;key&gt;.lock and runs a pool of one worker started with
 *                    -XX:AOTCacheOutput=&lt;key&gt;.&lt;pid&gt;.tmp, runs a few typical tasks, closes it (the
 *                    JDK writes the cache as that worker exits), then renames the file to &lt;key&gt;.aot
 * </pre>
 *
 * <h2>Why the key hashes contents</h2>
 * The JDK checks little when it maps a cache: a jar rebuilt in place would silently run the classes
 * of the old one. Any change to a class path file, the JDK or the worker's options gives another key
 * and so another cache. Contents are hashed once per file (memoized by path, size, modification
 * time and file key: in the JVM, and for later JVMs in an index file in the cache directory, see
 * {@link #digest}). A class path with a non-empty directory (exploded classes, such as
 * {@code target/classes}) cannot have an AOT cache at all (the JDK refuses to create one): workers
 * then start without one.
 *
 * <h2>Concurrency</h2>
 * Several JVMs may want the same cache at once. Training takes an exclusive file lock on
 * {@code <key>.lock} (released by the OS if that JVM dies), so one JVM trains and the others go on
 * without a cache; the training output goes to a file of its own and is moved into place with an
 * atomic rename, so a reader sees either no cache or a complete one, never a partial file. A
 * replaced cache stays valid for JVMs that mapped it before.
 *
 * <h2>Off switch, place, clean-up</h2>
 * {@code -Dmultiproc4j.aot=off} or the environment variable {@code MULTIPROC4J_AOT=off} turns it off;
 * so does any {@code -XX:AOT...}, {@code -Xshare} or {@code -XX:SharedArchiveFile} option the user
 * gives workers (theirs win). The directory is {@code -Dmultiproc4j.aot.dir}, else
 * {@code $XDG_CACHE_HOME/multiproc4j/aot}, else {@code ~/.cache/multiproc4j/aot}. After each training,
 * only the {@value #KEEP} newest caches are kept.
 *
 * <h2>Other worker mains</h2>
 * The pool's {@code WorkerMain} is trained here. Another module's worker main (the server's) gets a
 * cache of its own through {@link #registerTrainer}: its trainer JVM runs the registered class, whose
 * {@code main} hands {@link #train(String[], Workload)} a workload that starts one such worker with
 * the options it is given; locking, the atomic rename and the clean-up stay here.
 */
public final class AotCache {
    /** System property: {@code off} turns the cache off. */
    public static final String PROPERTY = "multiproc4j.aot";
    /** System property: the cache directory. */
    public static final String DIR_PROPERTY = "multiproc4j.aot.dir";
    /** Environment variable: {@code off} turns the cache off. */
    public static final String ENV = "MULTIPROC4J_AOT";
    /** Caches kept in the directory (each is tens of MB). */
    static final int KEEP = 8;

    private static final Set<String> TRAINING_STARTED = ConcurrentHashMap.newKeySet();
    private static final Map<Path, FileDigest> DIGESTS = new ConcurrentHashMap<>();
    /** Worker main class name → the trainer main class registered for it (besides the pool's own). */
    private static final Map<String, Class<?>> TRAINERS = new ConcurrentHashMap<>();

    /**
     * A training run's work: start one worker JVM with {@code workerOptions} (they record the cache as
     * it exits), make it do what it does in production, and return once it has exited.
     */
    @FunctionalInterface
    public interface Workload {
        /**
         * @param workerOptions the user's options for the worker plus {@code -XX:AOTCacheOutput=...}
         * @throws Exception when the training fails: no cache this time
         */
        void run(List<String> workerOptions) throws Exception;
    }

    /**
     * Gives workers that run {@code workerMainClass} an AOT cache trained by {@code trainerMain}, whose
     * {@code main(String[])} calls {@link #train(String[], Workload)} with its arguments. Idempotent.
     *
     * @param workerMainClass the worker JVMs' main class
     * @param trainerMain     the trainer JVM's main class, on the same class path
     */
    public static void registerTrainer(String workerMainClass, Class<?> trainerMain) {
        TRAINERS.putIfAbsent(workerMainClass, trainerMain);
    }

    private AotCache() {}

    /**
     * Adds the cache option to a worker's command line, or starts making the cache.
     *
     * @param command     the command so far: java, options (ours, inherited, the user's), no class path yet
     * @param userOptions the user's options for the worker
     * @param mainClass   the class the command runs
     * @param classPath   the class path the command uses
     * @param modulePath  the module path it uses, or empty
     */
    static void apply(List<String> command, List<String> userOptions, String mainClass, String classPath,
                      String modulePath, String moduleName) {
        if (userOptions.stream().anyMatch(AotCache::isAotOption)) {
            // The user's own AOT or CDS options win; ours (-Xshare:auto) would conflict with them.
            command.removeIf(o -> o.startsWith("-Xshare:") && !userOptions.contains(o));
            return;
        }
        Class<?> trainer = mainClass.equals(WorkerMain.class.getName()) ? AotCache.class : TRAINERS.get(mainClass);
        if (trainer == null || !enabled()) {
            return;
        }
        try {
            String key = key(command, mainClass, classPath, modulePath);
            if (key == null) {
                return; // an exploded directory on the class path: the JDK cannot cache it
            }
            Path dir = directory();
            Path cache = dir.resolve(key + ".aot");
            if (Files.isRegularFile(cache)) {
                command.removeIf(o -> o.startsWith("-Xshare:"));
                command.add("-XX:AOTCache=" + cache);
                // A cache the JDK cannot use (another CPU, say) is skipped; it need not say so on every start.
                command.add("-Xlog:aot=off");
                command.add("-Xlog:cds=off");
            } else if (TRAINING_STARTED.add(key)) {
                startTrainer(dir, key, userOptions, trainer,
                        trainer == AotCache.class ? moduleName : trainer.getModule().isNamed() ? trainer.getModule().getName() : null);
            }
        } catch (IOException | RuntimeException e) {
            // No cache: workers start as they would without one.
        }
    }

    private static boolean isAotOption(String option) {
        return option.startsWith("-XX:AOT") || option.startsWith("-Xshare") || option.startsWith("-XX:SharedArchiveFile")
                || option.startsWith("-XX:+AutoCreateSharedArchive");
    }

    /** @return whether workers use an AOT cache in this JVM (the default) */
    public static boolean enabled() {
        return !"off".equalsIgnoreCase(System.getProperty(PROPERTY, ""))
                && !"off".equalsIgnoreCase(System.getenv().getOrDefault(ENV, ""));
    }

    /** @return where caches live */
    public static Path directory() {
        String dir = System.getProperty(DIR_PROPERTY);
        if (dir != null && !dir.isBlank()) {
            return Path.of(dir);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("multiproc4j").resolve("aot");
    }

    /**
     * @return the key of a worker command, or {@code null} when its class path holds a non-empty
     *     directory (the JDK refuses to cache those)
     */
    static String key(List<String> command, String mainClass, String classPath, String modulePath) throws IOException {
        MessageDigest sha = sha256();
        update(sha, System.getProperty("java.home"));
        update(sha, System.getProperty("java.vm.version"));
        for (String part : command.subList(1, command.size())) {
            update(sha, part);
        }
        update(sha, mainClass);
        for (String path : List.of(classPath, modulePath)) {
            update(sha, "--path--");
            for (String entry : path.split(java.io.File.pathSeparator)) {
                if (entry.isEmpty()) {
                    continue;
                }
                Path file = Path.of(entry).toAbsolutePath().normalize();
                update(sha, file.toString());
                if (Files.isDirectory(file)) {
                    try (Stream<Path> children = Files.list(file)) {
                        if (children.findAny().isPresent()) {
                            return null;
                        }
                    }
                } else if (Files.isRegularFile(file)) {
                    update(sha, digest(file));
                }
            }
        }
        return HexFormat.of().formatHex(sha.digest()).substring(0, 32);
    }

    /** A file's contents digest and the metadata it was taken with. */
    private record FileDigest(long size, long modifiedNanos, String fileKey, String sha256) {
        boolean matches(BasicFileAttributes attributes) {
            return size == attributes.size() && modifiedNanos == attributes.lastModifiedTime().to(TimeUnit.NANOSECONDS)
                    && fileKey.equals(String.valueOf(attributes.fileKey()));
        }
    }

    /**
     * A file's contents digest, memoized while its size, modification time (ns) and file key (device
     * and inode) stay the same: in this JVM, and across JVMs in {@value #DIGEST_INDEX} in the cache
     * directory. Why across JVMs: hashing a class path is the first pool's cost in every new JVM
     * (measured: 174 ms of CPU for the bench's 24 MB of jars, cold SHA-256 code, before the first
     * worker could be spawned); the index makes it a few file stats. The index is trusted as the
     * in-JVM memo is (same metadata, same contents), and it lives in the private cache directory, so
     * only this user, who could write a cache there anyway, can write it.
     */
    static String digest(Path file) throws IOException {
        BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
        FileDigest known = DIGESTS.get(file);
        if (known == null) {
            known = diskIndex().get(file.toString());
        }
        if (known != null && known.matches(attributes)) {
            DIGESTS.putIfAbsent(file, known);
            return known.sha256();
        }
        MessageDigest sha = sha256();
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                sha.update(buffer, 0, n);
            }
        }
        String hex = HexFormat.of().formatHex(sha.digest());
        FileDigest digest = new FileDigest(attributes.size(), attributes.lastModifiedTime().to(TimeUnit.NANOSECONDS),
                String.valueOf(attributes.fileKey()), hex);
        DIGESTS.put(file, digest);
        remember(file, digest);
        return hex;
    }

    /** The index of file digests kept in the cache directory. */
    static final String DIGEST_INDEX = "file-digests.tsv";
    /** Beyond this size the index is started afresh (entries of deleted and rebuilt jars pile up). */
    private static final long MAX_INDEX_BYTES = 1 << 20;
    /** The index as read from one cache directory. */
    private record DiskIndex(Path directory, Map<String, FileDigest> digests) {}

    private static volatile DiskIndex diskIndex;

    /** @return the digests recorded by earlier JVMs, by path (read once per JVM and directory; empty when none) */
    private static Map<String, FileDigest> diskIndex() {
        Path dir = directory();
        DiskIndex known = diskIndex;
        if (known != null && known.directory().equals(dir)) {
            return known.digests();
        }
        Map<String, FileDigest> index = new ConcurrentHashMap<>();
        Path file = dir.resolve(DIGEST_INDEX);
        try {
            if (Files.isRegularFile(file) && Files.size(file) <= MAX_INDEX_BYTES) {
                for (String line : Files.readAllLines(file, java.nio.charset.StandardCharsets.UTF_8)) {
                    // sha256 TAB size TAB modified-ns TAB file key TAB path (last: it may hold a tab)
                    String[] f = line.split("\t", 5);
                    if (f.length == 5 && f[0].length() == 64) {
                        try {
                            index.put(f[4], new FileDigest(Long.parseLong(f[1]), Long.parseLong(f[2]), f[3], f[0]));
                        } catch (NumberFormatException e) {
                            // a line cut short by a JVM that died writing it: ignored
                        }
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // no index: digests are computed
        }
        diskIndex = new DiskIndex(dir, index);
        return index;
    }

    /** Appends a digest to the index, where the cache directory exists already (one line, one write). */
    private static void remember(Path path, FileDigest digest) {
        Path dir = directory();
        Path file = dir.resolve(DIGEST_INDEX);
        if (path.toString().indexOf('\n') >= 0 || !Files.isDirectory(dir)) {
            return;
        }
        String line = digest.sha256() + "\t" + digest.size() + "\t" + digest.modifiedNanos() + "\t" + digest.fileKey()
                + "\t" + path + "\n";
        try {
            if (Files.isRegularFile(file) && Files.size(file) > MAX_INDEX_BYTES) {
                Files.delete(file);
            }
            Files.writeString(file, line, java.nio.charset.StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        } catch (IOException | RuntimeException e) {
            // not recorded: the next JVM computes it again
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    private static void update(MessageDigest sha, String s) {
        sha.update(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        sha.update((byte) 0);
    }

    /**
     * Starts the training in a JVM of its own, detached and at low priority: it outlives this JVM (a
     * short program still leaves a cache for the next), and its load does not compete with the
     * user's work more than the OS lets idle work compete.
     */
    private static void startTrainer(Path dir, String key, List<String> userOptions, Class<?> trainer, String moduleName)
            throws IOException {
        List<String> command = new ArrayList<>();
        Path nice = Path.of("/usr/bin/nice");
        if (Files.isExecutable(nice)) {
            command.add(nice.toString());
            command.add("-n");
            command.add("10");
        }
        List<String> args = new ArrayList<>(List.of(dir.toString(), key));
        args.addAll(userOptions);
        command.addAll(JvmCommand.forMain(List.of("-D" + PROPERTY + "=off"), trainer.getName(), moduleName));
        command.addAll(args);
        new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD).redirectInput(ProcessBuilder.Redirect.PIPE).start()
                .getOutputStream().close();
    }

    /**
     * The trainer JVM's main.
     *
     * @param args the cache directory, the key, then the user's options for workers
     */
    public static void main(String[] args) {
        train(args, options -> {
            try (Pool pool = Pool.builder().processes(1).jvmOptions(options.toArray(String[]::new))
                    .workerOutput(WorkerOutput.DISCARD).build()) {
                trainingWorkload(pool);
            }
        });
    }

    /**
     * A trainer JVM's work, for {@link #registerTrainer registered} trainers too: unless another JVM
     * holds the key's lock or the cache exists, runs {@code workload} recording into a file of its own,
     * moves that into place, and exits the JVM.
     *
     * @param args     the trainer's arguments: the cache directory, the key, then the user's options for workers
     * @param workload starts the recording worker and makes it work
     */
    public static void train(String[] args, Workload workload) {
        if (args.length < 2) {
            System.err.println("multiproc4j AOT trainer: started by a pool or a server, not by hand");
            System.exit(2);
        }
        train(Path.of(args[0]), args[1], List.of(args).subList(2, args.length), workload);
        System.exit(0);
    }

    /**
     * The training run: the workload's one worker recording with {@code -XX:AOTCacheOutput} (for a
     * pool, a few tasks of the kinds pools run), then its exit (the worker writes the cache as it
     * exits) and an atomic rename.
     */
    private static void train(Path dir, String key, List<String> userOptions, Workload workload) {
        Path lockFile = dir.resolve(key + ".lock");
        Path output = dir.resolve(key + "." + ProcessHandle.current().pid() + ".tmp");
        try {
            createPrivately(dir);
            try (FileChannel lockChannel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock lock = lockChannel.tryLock()) {
                if (lock == null || Files.isRegularFile(dir.resolve(key + ".aot"))) {
                    return; // another JVM trains it, or just did
                }
                List<String> options = new ArrayList<>(userOptions);
                options.add("-XX:AOTCacheOutput=" + output);
                workload.run(options);
                if (Files.isRegularFile(output) && Files.size(output) > 0) {
                    moveIntoPlace(output, dir.resolve(key + ".aot"));
                    pruneOld(dir);
                }
            }
        } catch (Exception e) {
            // No cache this time; the next JVM tries again.
        } finally {
            try {
                Files.deleteIfExists(output);
                Files.deleteIfExists(Path.of(output + ".config"));
            } catch (IOException e) {
                // left for the next clean-up
            }
        }
    }

    /** The kinds of task a pool runs: lambdas and method references, boxed lists, strings, a failure. */
    private static void trainingWorkload(Pool pool) throws InterruptedException, java.util.concurrent.ExecutionException {
        SerializableFunction<Integer, Integer> inc = x -> x + 1;
        int captured = 3;
        SerializableFunction<Integer, Integer> capturing = x -> x * captured;
        SerializableFunction<String, Integer> length = String::length;
        SerializableFunction<Integer, Integer> failing = x -> {
            throw new IllegalStateException("training: a task that fails");
        };
        List<Integer> ints = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            ints.add(i);
        }
        for (int round = 0; round < 3; round++) {
            pool.applyAsync(inc, round).get();
            pool.applyAsync(capturing, round).get();
            pool.map(inc, ints);
            pool.map(inc, ints.subList(0, 2_000), 1);
            pool.map(length, List.of("a", "bb", "ccc"));
            pool.map(x -> (long) x, ints);
            pool.map(x -> x * 0.5, ints);
            try {
                pool.applyAsync(failing, 1).get();
            } catch (java.util.concurrent.ExecutionException expected) {
                // the failure path is part of the training
            }
        }
    }

    /**
     * Creates the cache directory readable and writable by this user only: a JVM maps whatever cache
     * it finds there and runs its classes, so nobody else may be able to put one there.
     */
    private static void createPrivately(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        Path parent = dir.getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        try {
            Files.createDirectory(dir, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
        } catch (UnsupportedOperationException e) {
            Files.createDirectories(dir); // not a POSIX file system
        } catch (java.nio.file.FileAlreadyExistsException e) {
            // another JVM made it just now
        }
    }

    private static void moveIntoPlace(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            // same directory, so this is rare; a reader could then see a partial file: do without
            Files.deleteIfExists(from);
        }
    }

    /**
     * Keeps the newest caches (each key: class path, JDK, options, has its own, and old ones pile
     * up), and removes what trainers killed midway left, once it is surely not in use.
     */
    private static void pruneOld(Path dir) throws IOException {
        long stale = System.currentTimeMillis() - 3_600_000;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.filter(p -> p.getFileName().toString().contains(".tmp")).toList()) {
                if (modified(p) < stale) {
                    Files.deleteIfExists(p);
                }
            }
        }
        List<Path> caches;
        try (Stream<Path> files = Files.list(dir)) {
            caches = files.filter(p -> p.getFileName().toString().endsWith(".aot"))
                    .sorted(Comparator.comparingLong(AotCache::modified).reversed()).toList();
        }
        for (Path old : caches.subList(Math.min(KEEP, caches.size()), caches.size())) {
            Files.deleteIfExists(old);
            Files.deleteIfExists(Path.of(old.toString().replace(".aot", ".lock")));
        }
    }

    private static long modified(Path p) {
        try {
            return Files.getLastModifiedTime(p).toMillis();
        } catch (IOException e) {
            return 0;
        }
    }
}
