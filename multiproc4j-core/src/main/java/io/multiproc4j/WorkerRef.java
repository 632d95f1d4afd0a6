package io.multiproc4j;

import java.io.Serializable;

/**
 * Names the worker that ran (or was running) a task: its number in the pool and its process id.
 * For thread pools the pid is this JVM's and the name is the thread's.
 *
 * @param name the worker's name, such as {@code worker-3}
 * @param pid  the process id of the JVM that ran the task
 */
public record WorkerRef(String name, long pid) implements Serializable {
    @Override
    public String toString() {
        return name + " (pid " + pid + ")";
    }
}
