package io.multiproc4j.testkit;

import java.util.concurrent.locks.LockSupport;

/**
 * A helper JVM for {@link DeadlineExtensionTest}: starts N parked threads named {@code parked-0} to
 * {@code parked-(N-1)} (enough for a thread dump far over a pipe's 64 KiB), prints {@code READY},
 * and waits until its stdin closes.
 */
public final class ManyThreadsMain {
    private ManyThreadsMain() {}

    /**
     * @param args the thread count
     * @throws Exception never in practice
     */
    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[0]);
        for (int i = 0; i < n; i++) {
            Thread.ofPlatform().daemon().name("parked-" + i).start(() -> {
                for (;;) {
                    LockSupport.park();
                }
            });
        }
        System.out.println("READY");
        System.out.flush();
        System.in.read();
    }
}
