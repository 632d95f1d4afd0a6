package io.multiproc4j.testkit;

import io.multiproc4j.SerializableFunction;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serial;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * A fault injected at one stage of a task's round trip, for the process engine's fault matrix
 * (CPython's {@code test_deadlock.py}, loky's crash cases). Pass a bomb as the input of
 * {@link #task()}; it goes off where its stage says.
 */
public final class Bomb implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;

    private final Stage stage;
    private final Death death;

    /**
     * @param stage where it goes off
     * @param death how
     */
    public Bomb(Stage stage, Death death) {
        this.stage = stage;
        this.death = death;
    }

    @Override
    public String toString() {
        return "Bomb[" + stage + " × " + death + "]";
    }

    /** The stages of a task's round trip. */
    public enum Stage {
        /** Serializing the input in the pool's JVM. */
        ENCODE_IN_PARENT,
        /** Deserializing the input in the worker. */
        DECODE_IN_WORKER,
        /** Running the function. */
        RUN,
        /** Serializing the result in the worker. */
        ENCODE_RESULT,
        /** Deserializing the result in the pool's JVM. */
        DECODE_IN_PARENT;

        /** @return whether this stage runs in the worker */
        public boolean inWorker() {
            return this == DECODE_IN_WORKER || this == RUN || this == ENCODE_RESULT;
        }
    }

    /** The ways to fail. */
    public enum Death {
        /** Throw an exception. */
        THROW,
        /** {@code System.exit(42)}. */
        EXIT,
        /** {@code Runtime.halt(43)}. */
        HALT,
        /** SIGKILL itself. */
        SIGKILL,
        /** Fill the heap. */
        OOM,
        /** Never return. */
        HANG
    }

    /** @return the function to pass bombs to: it returns the bomb itself (so it travels back) or "survived" */
    public static SerializableFunction<Bomb, Object> task() {
        return bomb -> {
            if (bomb.stage == Stage.RUN) {
                bomb.detonate();
            }
            return bomb.stage == Stage.ENCODE_RESULT || bomb.stage == Stage.DECODE_IN_PARENT ? bomb : "survived";
        };
    }

    private static boolean inWorker() {
        return System.getenv("MULTIPROC4J_KEY") != null;
    }

    @Serial
    private void writeObject(ObjectOutputStream out) throws IOException {
        out.defaultWriteObject();
        if (stage == Stage.ENCODE_IN_PARENT && !inWorker() || stage == Stage.ENCODE_RESULT && inWorker()) {
            detonate();
        }
    }

    @Serial
    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        if (stage == Stage.DECODE_IN_WORKER && inWorker() || stage == Stage.DECODE_IN_PARENT && !inWorker()) {
            detonate();
        }
    }

    /** Goes off. */
    public void detonate() {
        switch (death) {
            case THROW -> throw new IllegalStateException("bomb went off at " + stage);
            case EXIT -> System.exit(42);
            case HALT -> Runtime.getRuntime().halt(43);
            case SIGKILL -> {
                try {
                    new ProcessBuilder("kill", "-9", Long.toString(ProcessHandle.current().pid())).start().waitFor();
                    hang();
                } catch (IOException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }
            case OOM -> {
                List<long[]> hog = new ArrayList<>();
                while (true) {
                    hog.add(new long[1 << 20]);
                }
            }
            case HANG -> hang();
        }
    }

    private static void hang() {
        Object never = new Object();
        synchronized (never) {
            while (true) {
                try {
                    never.wait();
                } catch (InterruptedException e) {
                    // a hung task ignores interrupts too
                }
            }
        }
    }
}
