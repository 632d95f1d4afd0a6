package io.multiproc4j.internal.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.multiproc4j.spi.Codec;
import java.io.NotSerializableException;
import java.io.StreamCorruptedException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StandardCodecTest {
    private final Codec codec = Codec.standard();

    private Object roundTrip(Object value) throws Exception {
        return codec.decode(codec.encode(value));
    }

    @Test
    void fastPathValues_roundTrip_compactly() throws Exception {
        for (Object value : new Object[] {null, 42, -7L, 2.5, 1.5f, (short) 3, (byte) 4, 'x', true, "héllo"}) {
            assertThat(roundTrip(value)).isEqualTo(value);
        }
        assertThat(codec.encode(42)).hasSize(5);
        assertThat((int[]) roundTrip(new int[] {1, 2, 3})).containsExactly(1, 2, 3);
        assertThat((long[]) roundTrip(new long[] {5L})).containsExactly(5L);
        assertThat((double[]) roundTrip(new double[] {0.5})).containsExactly(0.5);
        assertThat((byte[]) roundTrip(new byte[] {9, 8})).containsExactly(9, 8);
    }

    @Test
    void lists_keepTheirKind() throws Exception {
        List<Integer> mutable = new ArrayList<>(List.of(1, 2));
        Object back = roundTrip(mutable);
        assertThat(back).isInstanceOf(ArrayList.class).isEqualTo(mutable);
        assertThat(roundTrip(List.of(1, 2, 3))).isEqualTo(List.of(1, 2, 3)).isInstanceOf(List.of(1, 2, 3).getClass());
        assertThat(roundTrip(Arrays.asList("a", null))).isEqualTo(Arrays.asList("a", null));
        assertThat(roundTrip(new LinkedList<>(List.of(1)))).isInstanceOf(LinkedList.class);
        assertThat(roundTrip(List.of(List.of(1, 2), List.of(3)))).isEqualTo(List.of(List.of(1, 2), List.of(3)));
        List<Integer> toListWithNull = java.util.stream.Stream.of(1, null, 3).toList();
        assertThat(roundTrip(toListWithNull)).isEqualTo(toListWithNull).isInstanceOf(toListWithNull.getClass());
        List<List<Integer>> nestedPacked = List.of(new ArrayList<>(java.util.stream.IntStream.range(0, 50).boxed().toList()));
        assertThat(roundTrip(nestedPacked)).isEqualTo(nestedPacked);
    }

    @Test
    void homogeneousBoxLists_goInBulk_andKeepTheirKind() throws Exception {
        List<Integer> ints = new ArrayList<>(java.util.stream.IntStream.range(0, 10_000).boxed().toList());
        assertThat(codec.encode(ints)).hasSize(1 + 1 + 4 + 4 * 10_000);
        assertThat(roundTrip(ints)).isInstanceOf(ArrayList.class).isEqualTo(ints);
        List<Long> longs = java.util.stream.LongStream.range(0, 100).boxed().toList();
        assertThat(roundTrip(longs)).isEqualTo(longs).isInstanceOf(longs.getClass());
        List<Double> doubles = Arrays.asList(0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5);
        assertThat(roundTrip(doubles)).isEqualTo(doubles);
        List<Object> mixed = new ArrayList<>(ints.subList(0, 20));
        mixed.add(5L);
        assertThat(roundTrip(mixed)).isEqualTo(mixed);
        List<Integer> withNull = new ArrayList<>(ints.subList(0, 20));
        withNull.add(null);
        assertThat(roundTrip(withNull)).isEqualTo(withNull);
    }

    @Test
    void otherSerializableValues_goThroughJdkSerialization() throws Exception {
        assertThat(roundTrip(Map.of("k", 1))).isEqualTo(Map.of("k", 1));
        assertThat(roundTrip(List.of(1, Map.of()))).isEqualTo(List.of(1, Map.of()));
    }

    @Test
    void nonSerializable_isRefused_namingTheClass() {
        assertThatThrownBy(() -> codec.encode(new Object())).isInstanceOf(NotSerializableException.class)
                .hasMessageContaining("java.lang.Object");
        assertThatThrownBy(() -> codec.encode(List.of(1, new Object()))).isInstanceOf(NotSerializableException.class);
    }

    @Test
    void malformedBytes_areRefused() {
        assertThatThrownBy(() -> codec.decode(new byte[0])).isInstanceOf(StreamCorruptedException.class);
        assertThatThrownBy(() -> codec.decode(new byte[] {99})).isInstanceOf(StreamCorruptedException.class);
    }

    record Point(int x, int y) implements java.io.Serializable {}

    @Test
    void serializableLambdas_travelCompactly_withTheirCapturedValues() throws Exception {
        int offset = 7;
        Point p = new Point(1, 2);
        String name = "n";
        io.multiproc4j.SerializableFunction<Integer, String> capturing = x -> name + (x + offset + p.x() + p.y());
        byte[] bytes = codec.encode(capturing);
        assertThat(bytes[0]).as("the lambda tag, not a JDK stream").isNotEqualTo((byte) 17);
        @SuppressWarnings("unchecked")
        var back = (io.multiproc4j.SerializableFunction<Integer, String>) codec.decode(bytes);
        assertThat(back.apply(10)).isEqualTo("n20");
        io.multiproc4j.SerializableFunction<String, Integer> methodRef = String::length;
        @SuppressWarnings("unchecked")
        var ref = (io.multiproc4j.SerializableFunction<String, Integer>) roundTrip(methodRef);
        assertThat(ref.apply("four")).isEqualTo(4);
        java.util.concurrent.Callable<Integer> task = (java.util.concurrent.Callable<Integer> & java.io.Serializable) () -> offset * 2;
        List<Object> inList = new ArrayList<>(List.of(task));
        Object decodedList = roundTrip(inList);
        assertThat(decodedList).isInstanceOf(ArrayList.class);
        assertThat(((java.util.concurrent.Callable<?>) ((List<?>) decodedList).getFirst()).call()).isEqualTo(14);
        assertThat(codec.encode(capturing)).as("the same lambda and values give the same bytes").isEqualTo(bytes);
    }

    @Test
    void lambdaCapturingNonSerializable_isRefused_namingTheClass() {
        Object notSerializable = new Object() {};
        io.multiproc4j.SerializableFunction<Integer, String> fn = x -> notSerializable.toString();
        assertThatThrownBy(() -> codec.encode(fn)).isInstanceOf(NotSerializableException.class)
                .hasMessageContaining(notSerializable.getClass().getName());
    }
}
