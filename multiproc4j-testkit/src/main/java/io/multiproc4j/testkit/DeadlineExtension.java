package io.multiproc4j.testkit;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.InvocationInterceptor;
import org.junit.jupiter.api.extension.ReflectiveInvocationContext;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * Runs each test on its own thread and watches the clock (JSR-166's WedgedTestDetector, as an
 * extension). At the deadline it prints the stacks of every thread here and of every descendant JVM
 * (through {@code jcmd Thread.print}), kills the descendants so nothing is left behind, interrupts
 * the test and fails it.
 */
public final class DeadlineExtension implements InvocationInterceptor {

    @Override
    public void interceptTestMethod(Invocation<Void> invocation, ReflectiveInvocationContext<Method> invocationContext,
                                    ExtensionContext context) throws Throwable {
        int seconds = AnnotationSupport.findAnnotation(context.getRequiredTestMethod(), Deadline.class)
                .or(() -> AnnotationSupport.findAnnotation(context.getRequiredTestClass(), Deadline.class))
                .map(Deadline::seconds).orElse(60);
        Throwable[] failure = new Throwable[1];
        AtomicBoolean done = new AtomicBoolean();
        Thread runner = Thread.ofPlatform().name("deadline-" + context.getDisplayName()).start(() -> {
            try {
                invocation.proceed();
            } catch (Throwable t) {
                failure[0] = t;
            } finally {
                done.set(true);
            }
        });
        runner.join(TimeUnit.SECONDS.toMillis(seconds));
        if (!done.get()) {
            String dump = dumpEverything();
            System.err.println("=== " + context.getDisplayName() + " passed its deadline of " + seconds + " s ===");
            System.err.println(dump);
            killDescendants();
            runner.interrupt();
            runner.join(5_000);
            throw new AssertionError(context.getDisplayName() + " did not finish within " + seconds
                    + " s; thread dumps of this JVM and its workers were printed to stderr");
        }
        if (failure[0] != null) {
            throw failure[0];
        }
    }

    /** @return the stacks of every thread of this JVM and of each live descendant JVM */
    public static String dumpEverything() {
        var sb = new StringBuilder("--- threads of the test JVM (pid ").append(ProcessHandle.current().pid()).append(") ---\n");
        for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
            sb.append('"').append(e.getKey().getName()).append("\" ").append(e.getKey().getState()).append('\n');
            for (StackTraceElement frame : e.getValue()) {
                sb.append("    at ").append(frame).append('\n');
            }
        }
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        for (ProcessHandle child : ProcessHandle.current().descendants().toList()) {
            sb.append("--- threads of descendant pid ").append(child.pid()).append(" ---\n");
            try {
                sb.append(jcmdThreadPrint(jcmd, child.pid()));
            } catch (IOException e) {
                sb.append("(jcmd failed: ").append(e.getMessage()).append(")\n");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return sb.toString();
    }

    /**
     * Runs {@code jcmd PID Thread.print} with its output going to a file, not a pipe: a dump is often
     * larger than a pipe's 64 KiB, and a child that cannot write would stall until the time limit and
     * lose the rest. The file is read whole once jcmd is done (or killed at its limit).
     */
    static String jcmdThreadPrint(Path jcmd, long pid) throws IOException, InterruptedException {
        Path out = Files.createTempFile("mp4j-jcmd-" + pid + "-", ".txt");
        try {
            Process p = new ProcessBuilder(jcmd.toString(), Long.toString(pid), "Thread.print")
                    .redirectErrorStream(true).redirectOutput(out.toFile()).start();
            String note = "";
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                note = "(jcmd did not finish within 30 s; what it wrote so far is above)\n";
            }
            return Files.readString(out, StandardCharsets.UTF_8) + note;
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /** Kills every descendant process of this JVM. */
    public static void killDescendants() {
        List<ProcessHandle> all = ProcessHandle.current().descendants().toList();
        all.forEach(ProcessHandle::destroyForcibly);
    }
}
