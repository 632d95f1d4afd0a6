package io.multiproc4j.testkit;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * jqwik generators of hostile input for the framing all our ports share
 * ({@code int length n │ byte type │ n - 1 bytes}): raw noise, lengths that would make a careless
 * reader allocate gigabytes, types the protocol does not know, frames cut short, and splits into
 * arbitrary chunks so that partial reads are exercised. Bind them to an endpoint with
 * {@link PortFuzzer}; {@code knownTypes} are the frame types the endpoint's protocol defines.
 */
public final class FrameFuzz {
    private FrameFuzz() {}

    /** Lengths a reader must refuse before allocating: negative, zero, far above any limit. */
    public static final List<Integer> HOSTILE_LENGTHS = List.of(Integer.MAX_VALUE, Integer.MAX_VALUE - 4,
            Integer.MIN_VALUE, -1, 0, 1 << 30, (1 << 30) + 1, 1 << 28, 64 << 20, (64 << 20) + 1);

    /**
     * @param type    the frame type
     * @param payload its payload
     * @return the frame's bytes
     */
    public static byte[] frame(int type, byte[] payload) {
        return ByteBuffer.allocate(5 + payload.length).putInt(payload.length + 1).put((byte) type).put(payload).array();
    }

    /** @return bytes of any value, 0 to 2 KiB */
    public static Arbitrary<byte[]> noise() {
        return Arbitraries.bytes().array(byte[].class).ofMinSize(0).ofMaxSize(2048);
    }

    /**
     * @param limit the largest payload the endpoint accepts at this point (before authentication: its
     *              handshake limit)
     * @return a header announcing a hostile or just-too-large length, followed by a little payload
     */
    public static Arbitrary<byte[]> hostileLength(int limit) {
        Arbitrary<Integer> lengths = Arbitraries.oneOf(Arbitraries.of(HOSTILE_LENGTHS),
                Arbitraries.integers().between(limit + 2, Integer.MAX_VALUE), Arbitraries.integers().lessOrEqual(0));
        return Combinators.combine(lengths, Arbitraries.integers().between(0, 255),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(64))
                .as((length, type, tail) -> ByteBuffer.allocate(5 + tail.length).putInt(length).put(type.byteValue())
                        .put(tail).array());
    }

    /**
     * @param knownTypes the types the protocol defines
     * @return a well-formed frame of a type the protocol does not define
     */
    public static Arbitrary<byte[]> unknownType(Set<Integer> knownTypes) {
        return Combinators.combine(Arbitraries.integers().between(0, 255).filter(t -> !knownTypes.contains(t)),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(512)).as(FrameFuzz::frame);
    }

    /**
     * @param valid a valid message (one or more frames)
     * @return a strict prefix of it (cut anywhere, the header included)
     */
    public static Arbitrary<byte[]> truncated(byte[] valid) {
        return Arbitraries.integers().between(0, Math.max(0, valid.length - 1))
                .map(cut -> java.util.Arrays.copyOf(valid, cut));
    }

    /**
     * @param type        a known type
     * @param maxPayload  the largest payload to generate
     * @return a well-formed frame of a known type with random payload (a parser's edge cases)
     */
    public static Arbitrary<byte[]> randomPayload(int type, int maxPayload) {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(maxPayload).map(p -> frame(type, p));
    }

    /**
     * @param bytes what to send
     * @return the same bytes in 1 to 8 chunks of random sizes
     */
    public static Arbitrary<List<byte[]>> chunked(byte[] bytes) {
        return Arbitraries.integers().between(0, bytes.length).list().ofMaxSize(7).map(cuts -> {
            List<Integer> sorted = new ArrayList<>(new java.util.TreeSet<>(cuts));
            List<byte[]> chunks = new ArrayList<>();
            int from = 0;
            for (int cut : sorted) {
                if (cut > from) {
                    chunks.add(java.util.Arrays.copyOfRange(bytes, from, cut));
                    from = cut;
                }
            }
            chunks.add(java.util.Arrays.copyOfRange(bytes, from, bytes.length));
            return chunks;
        });
    }

    /**
     * @param knownTypes the protocol's types
     * @param limit      the payload limit at this point of the protocol
     * @return any of the hostile inputs above, chunked
     */
    public static Arbitrary<List<byte[]>> anyHostileInput(Set<Integer> knownTypes, int limit) {
        return Arbitraries.oneOf(noise(), hostileLength(limit), unknownType(knownTypes),
                Arbitraries.integers().between(0, 255).flatMap(t -> randomPayload(t, Math.min(limit, 1024))))
                .flatMap(FrameFuzz::chunked);
    }
}
