package io.multiproc4j.internal.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.multiproc4j.spi.Codec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class SegmentedListTest {
    private final Codec codec = Codec.standard();
    private static final int SEG = SegmentedList.SEGMENT;

    private List<?> packedFrom(List<?> values) throws Exception {
        List<?> decoded = StandardCodec.decodeResults(codec, codec.encode(new ArrayList<>(values)));
        assertThat(decoded).isInstanceOf(PackedList.class);
        return decoded;
    }

    @Test
    void chunksAcrossSegmentBoundaries_landAtTheirIndexes_inAnyOrder() throws Exception {
        int n = 3 * SEG + 123;
        List<Integer> expected = IntStream.range(0, n).map(i -> i * 7).boxed().toList();
        var list = new SegmentedList<Integer>(n);
        int chunk = SEG / 3 + 17; // chunks straddle segment boundaries
        List<int[]> ranges = new ArrayList<>();
        for (int from = 0; from < n; from += chunk) {
            ranges.add(new int[] {from, Math.min(n, from + chunk)});
        }
        java.util.Collections.reverse(ranges);
        boolean packed = true;
        for (int[] r : ranges) {
            List<Integer> part = expected.subList(r[0], r[1]);
            list.putAll(r[0], packed ? packedFrom(part) : new ArrayList<>(part)); // alternate packed and boxed
            packed = !packed;
        }
        assertThat(list).hasSize(n).isEqualTo(expected);
        assertThat(list.get(n - 1)).isEqualTo((n - 1) * 7);
    }

    @Test
    void packedLongsAndDoubles_keepTheirTypes_andNullsMixIn() throws Exception {
        List<Long> longs = LongStream.range(0, 20).map(x -> x << 40).boxed().toList();
        List<Double> doubles = IntStream.range(0, 20).mapToDouble(i -> i + 0.25).boxed().toList();
        var list = new SegmentedList<Object>(60);
        list.putAll(0, packedFrom(longs));
        list.putAll(20, packedFrom(doubles));
        list.putAll(40, Arrays.asList(new Object[20])); // nulls: the segment turns into references
        assertThat(list.subList(0, 20)).isEqualTo(longs);
        assertThat(list.subList(20, 40)).isEqualTo(doubles);
        assertThat(list.subList(40, 60)).containsOnlyNulls();
        assertThat(list.get(0)).isInstanceOf(Long.class);
        assertThat(list.get(20)).isInstanceOf(Double.class);
    }

    @Test
    void isUnmodifiable_andTravels_byCodecAndJdkSerialization() throws Exception {
        var list = new SegmentedList<Integer>(10);
        list.putAll(0, packedFrom(IntStream.range(0, 10).boxed().toList()));
        assertThatThrownBy(() -> list.add(1)).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> list.set(0, 1)).isInstanceOf(UnsupportedOperationException.class);
        assertThat(codec.decode(codec.encode(list))).isEqualTo(list).isInstanceOf(List.of(1, 2, 3).getClass());
        var bytes = new ByteArrayOutputStream();
        try (var out = new ObjectOutputStream(bytes)) {
            out.writeObject(list);
        }
        try (var in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            assertThat(in.readObject()).isEqualTo(list);
        }
    }

    @Test
    void chunkViews_encodeLikeArrayLists() throws Exception {
        List<Integer> all = IntStream.range(0, 100).boxed().toList();
        byte[] viaView = StandardCodec.encodeChunk(codec, all.subList(10, 50));
        assertThat(viaView).isEqualTo(codec.encode(new ArrayList<>(all.subList(10, 50))));
        assertThat(codec.decode(viaView)).isInstanceOf(ArrayList.class).isEqualTo(all.subList(10, 50));
        assertThat(StandardCodec.encodeChunk(codec, Arrays.asList("a", "b", "c", "d", "e", "f", "g", "h")))
                .as("not a list of one box type: the ordinary path").isNull();
    }

    @Test
    void truncatedPackedBytes_areRefused() throws Exception {
        byte[] bytes = codec.encode(new ArrayList<>(IntStream.range(0, 100).boxed().toList()));
        byte[] cut = Arrays.copyOf(bytes, bytes.length - 4);
        assertThatThrownBy(() -> StandardCodec.decodeResults(codec, cut)).isInstanceOf(java.io.StreamCorruptedException.class);
        assertThatThrownBy(() -> codec.decode(cut)).isInstanceOf(java.io.StreamCorruptedException.class);
    }

    @Test
    void chunksThatHoldWholeSegments_areReadInTheBytesTheyArrivedIn_andStayCorrectWhenOverwritten() throws Exception {
        int n = 4 * SEG + 99;
        List<Integer> expected = IntStream.range(0, n).map(i -> i * 31 - 1_000_000).boxed().toList();
        var list = new SegmentedList<Integer>(n);
        int chunk = 2 * SEG + 5; // the first chunk holds segments 0 and 1 whole, the second 3 whole
        list.putAll(chunk, packedFrom(expected.subList(chunk, n)));
        list.putAll(0, packedFrom(expected.subList(0, chunk)));
        assertThat(list).isEqualTo(expected);
        long sum = 0;
        for (Integer x : list) {
            sum += x;
        }
        assertThat(sum).isEqualTo(expected.stream().mapToLong(Integer::longValue).sum());
        // anything written over a segment that is a view makes it a copy first: nothing else changes
        list.putAll(SEG + 3, List.of("x"));
        list.putAll(3, packedFrom(expected.subList(3, 3 + 10)));
        List<Object> changed = new ArrayList<>(expected);
        changed.set(SEG + 3, "x");
        assertThat(new ArrayList<Object>(list)).isEqualTo(changed);
    }
}
