package io.multiproc4j.internal.codec;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.spi.Codec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class IntResultsTest {
    private final Codec codec = Codec.standard();

    private static List<Object> fill(List<Object> target, Object... values) {
        target.addAll(Arrays.asList(values));
        return target;
    }

    private static Object[] ints(int n, int from) {
        Object[] values = new Object[n];
        for (int i = 0; i < n; i++) {
            values[i] = from + i * 1_000_003; // beyond the Integer cache, negative ones too
        }
        return values;
    }

    @Test
    void integerResults_encodeExactlyAsAnArrayListOfTheSameBoxes() throws Exception {
        for (int n : new int[] {0, 1, 7, 8, 9, 1000, 40_000}) {
            Object[] values = ints(n, -5_000);
            byte[] expected = codec.encode(fill(new ArrayList<>(), values));
            List<Object> results = fill(StandardCodec.resultList(codec, n), values);
            assertThat(results).isInstanceOf(IntResults.class).hasSize(n).containsExactly(values);
            assertThat(codec.encode(results)).as("n = " + n).isEqualTo(expected);
        }
    }

    @Test
    void theFirstResultThatIsNotAnInteger_keepsEveryResultAsItWas() throws Exception {
        Object[] values = {1, 2, 300_000, null, 5L, "six", 7, 8, 9, 10};
        List<Object> results = fill(StandardCodec.resultList(codec, 2), values); // past its capacity too
        assertThat(results).containsExactly(values);
        assertThat(codec.encode(results)).isEqualTo(codec.encode(fill(new ArrayList<>(), values)));
        assertThat(codec.decode(codec.encode(results))).isEqualTo(Arrays.asList(values));
    }

    @Test
    void moreResultsThanExpected_grow_andDecodeInThePoolAsPackedInts() throws Exception {
        Object[] values = ints(100, 3);
        List<Object> results = fill(StandardCodec.resultList(codec, 10), values);
        @SuppressWarnings("unchecked")
        List<Object> decoded = (List<Object>) StandardCodec.decodeResults(codec, codec.encode(results));
        assertThat(decoded).isInstanceOf(PackedList.class).containsExactly(values);
        SegmentedList<Object> into = new SegmentedList<>(values.length + 5);
        into.putAll(5, decoded);
        assertThat(into.subList(5, into.size())).containsExactly(values);
    }

    @Test
    void anotherCodec_getsAnOrdinaryArrayList() {
        Codec java = new Codec() {
            @Override
            public byte[] encode(Object value) {
                return new byte[0];
            }

            @Override
            public Object decode(byte[] bytes) {
                return null;
            }
        };
        assertThat(StandardCodec.resultList(java, 4)).isExactlyInstanceOf(ArrayList.class);
    }

    @Test
    void cleared_startsOverAsInts() throws Exception {
        List<Object> results = fill(StandardCodec.resultList(codec, 4), 1, null, 3);
        results.clear();
        fill(results, ints(20, 1));
        assertThat(codec.encode(results)).isEqualTo(codec.encode(fill(new ArrayList<>(), ints(20, 1))));
    }
}
