package io.multiproc4j.internal.ipc;

/**
 * A pipe segment: a small header naming the state of its two ends, then one {@link RingLayout}
 * ring per direction (two for a duplex pipe, one for a one-way pipe). Both rings have the same
 * size, so both kinds of pipe buffer the same.
 *
 * <pre>
 *  0       4       8       12      16              24              32              40              48
 *  +-------+-------+-------+-------+---------------+---------------+---------------+---------------+
 *  |duplex |  pad  |closed0|closed1| end 0 holder  | end 0 holder  | end 1 holder  | end 1 holder  |
 *  |       |       |       |       |     pid       |  start ticks  |     pid       |  start ticks  |
 *  +-------+-------+-------+-------+---------------+---------------+---------------+---------------+
 *  64:                  ring 0 (RingLayout.sizeOf(ring bytes))
 *  64 + ring size:      ring 1 (duplex only)
 * </pre>
 *
 * <ul>
 *   <li><b>duplex</b>: 1 for {@code Pipe.duplex()}, 0 for {@code Pipe.oneWay()}.</li>
 *   <li><b>closed0 / closed1</b>: set (once) when an end is closed, by any process.</li>
 *   <li><b>holder</b>: the process that last took up the end (its creator, then whoever
 *       deserialized it). A receiver or sender that waits checks, once per wait slice, that the
 *       other end's holder is alive: a peer that died without closing ends the wait with an
 *       EOF-style error instead of a hang.</li>
 * </ul>
 *
 * <p>Directions: duplex: ring 0 carries end 0 → end 1, ring 1 carries end 1 → end 0. One-way:
 * ring 0 carries end 1 (the sending end, {@code right()}) → end 0 (the receiving end,
 * {@code left()}), as Python's {@code Pipe(duplex=False)} returns {@code (reader, writer)}.
 */
public final class PipeLayout {
    public static final long DUPLEX_OFFSET = 0;
    public static final long CLOSED_OFFSET = 8;
    public static final long HOLDER_OFFSET = 16;
    public static final long HOLDER_SIZE = 16;
    /** Where ring 0 starts. */
    public static final long RINGS_OFFSET = 64;

    private PipeLayout() {}

    /**
     * @param end 0 or 1
     * @return the offset of that end's closed flag
     */
    public static long closedOffset(int end) {
        return CLOSED_OFFSET + 4L * end;
    }

    /**
     * @param end 0 or 1
     * @return the offset of that end's holder pid (start ticks follow)
     */
    public static long holderOffset(int end) {
        return HOLDER_OFFSET + HOLDER_SIZE * end;
    }

    /**
     * @param ring      0 or 1
     * @param ringBytes the data ring size
     * @return the offset of that ring
     */
    public static long ringOffset(int ring, long ringBytes) {
        return RINGS_OFFSET + ring * RingLayout.sizeOf(ringBytes);
    }

    /**
     * @param duplex    whether there are two rings
     * @param ringBytes the data ring size
     * @return bytes the pipe segment needs
     */
    public static long sizeOf(boolean duplex, long ringBytes) {
        return RINGS_OFFSET + (duplex ? 2 : 1) * RingLayout.sizeOf(ringBytes);
    }
}
