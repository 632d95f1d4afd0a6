package io.multiproc4j.internal.supervise;

/**
 * A child that never connects: it waits until its standard input ends (its parent closed it or
 * died), so that its one-time key stays waiting in the supervisor for as long as a test needs it.
 */
public final class IdleChildMain {
    private IdleChildMain() {}

    /**
     * @param args unused
     * @throws Exception never expected
     */
    public static void main(String[] args) throws Exception {
        while (System.in.read() >= 0) {
            // nothing: waiting for the end of input
        }
    }
}
