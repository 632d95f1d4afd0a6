package io.multiproc4j.testkit;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
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
                Process p = new ProcessBuilder(jcmd.toString(), Long.toString(child.pid()), "Thread.print")
                        .redirectErrorStream(true).start();
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
                sb.append(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                sb.append("(jcmd failed: ").append(e.getMessage()).append(")\n");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return sb.toString();
    }

    /** Kills every descendant process of this JVM. */
    public static void killDescendants() {
        List<ProcessHandle> all = ProcessHandle.current().descendants().toList();
        all.forEach(ProcessHandle::destroyForcibly);
    }
}
