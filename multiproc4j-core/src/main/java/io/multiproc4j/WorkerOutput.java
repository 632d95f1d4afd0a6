package io.multiproc4j;

/** What happens to what worker JVMs write to their standard output and error. */
public enum WorkerOutput {
    /** Copied to this JVM's {@code System.out}/{@code System.err}, each line prefixed {@code [worker-N] }. */
    PREFIXED,
    /** Copied as is. */
    RAW,
    /** Dropped (the last lines of standard error are still kept for crash reports). */
    DISCARD
}
