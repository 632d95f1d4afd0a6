package io.multiproc4j.testkit;

import io.multiproc4j.internal.supervise.SupervisedChild;
import io.multiproc4j.internal.transport.FrameChannel;
import java.nio.ByteBuffer;

/**
 * A supervised child with its own control messages, not a pool worker: it answers each frame with
 * code + 1 and the same payload, and exits with the code in a frame of code {@value #EXIT}. With
 * {@code ECHO_MODE=hang} in its environment it never connects (a start that times out).
 */
public final class EchoChildMain {
    /** The code of the frame that makes it exit with the int in its payload. */
    public static final int EXIT = 99;

    private EchoChildMain() {}

    /**
     * @param args unused
     * @throws Exception when the owner cannot be reached
     */
    public static void main(String[] args) throws Exception {
        if ("hang".equals(System.getenv("ECHO_MODE"))) {
            Thread.currentThread().join(); // never connects; the start timeout kills it
        }
        FrameChannel channel = SupervisedChild.connect("echo");
        Thread lifeline = SupervisedChild.startLifeline(channel, frame -> {
            if (frame.code() == EXIT) {
                System.exit(ByteBuffer.wrap(frame.payload()).getInt());
            }
            channel.sendCode(frame.code() + 1, frame.payload());
        });
        lifeline.join();
    }
}
