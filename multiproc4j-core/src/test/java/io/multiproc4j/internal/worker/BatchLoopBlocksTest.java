package io.multiproc4j.internal.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.SerializableFunction;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * {@link BatchLoop} gives each function class a hidden loop of its own, and runs a batch in blocks (short ones while a function's loop is new, then longer
 * ones): every input is applied once, in order, and a failure anywhere, in the first blocks or the
 * later ones, at a block's first or last input, stops the batch at that input with its throwable.
 */
public class BatchLoopBlocksTest {
    private static List<Integer> range(int n) {
        return IntStream.range(0, n).boxed().toList();
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static int apply(SerializableFunction<Integer, Integer> fn, List<Integer> inputs, List<Object> results,
                             Throwable[] failure) {
        return BatchLoop.apply((SerializableFunction) fn, (List) inputs, results, failure);
    }

    @Test
    void eachFunctionClass_getsAHiddenLoopOfItsOwn() {
        SerializableFunction<Integer, Integer> a = x -> x + 1;
        SerializableFunction<Integer, Integer> b = x -> x + 2;
        Class<?> loopA = BatchLoop.loopClassFor(a.getClass());
        Class<?> loopB = BatchLoop.loopClassFor(b.getClass());
        assertThat(loopA.isHidden()).as("%s is a hidden copy, not the shared loop", loopA).isTrue();
        assertThat(loopB.isHidden()).isTrue();
        assertThat(loopA).isNotSameAs(loopB).isSameAs(BatchLoop.loopClassFor(a.getClass()));
    }

    @Test
    void aBatchLongerThanTheShortBlocks_appliesEveryInputOnceInOrder() {
        SerializableFunction<Integer, Integer> plusOne = x -> x + 1;
        for (int n : new int[] {0, 1, 31, 32, 33, 70_001, 200_000}) {
            List<Object> results = new ArrayList<>();
            int stop = apply(plusOne, range(n), results, new Throwable[1]);
            assertThat(stop).as("n=%d", n).isEqualTo(n);
            assertThat(results).as("n=%d", n).hasSize(n);
            for (int i = 0; i < n; i++) {
                if (!results.get(i).equals(i + 1)) {
                    throw new AssertionError("n=" + n + ": result " + i + " is " + results.get(i));
                }
            }
        }
    }

    @Test
    void aFailureInAShortBlock_stopsAtThatInput() {
        for (int at : new int[] {0, 31, 32, 33, 1_000}) {
            SerializableFunction<Integer, Integer> failsAt = x -> {
                if (x == at) {
                    throw new IllegalArgumentException("bad " + x);
                }
                return x;
            };
            List<Object> results = new ArrayList<>();
            Throwable[] failure = new Throwable[1];
            assertThat(apply(failsAt, range(2_000), results, failure)).isEqualTo(at);
            assertThat(results).hasSize(at);
            assertThat(failure[0]).isInstanceOf(IllegalArgumentException.class).hasMessage("bad " + at);
        }
    }

    @Test
    void aFailureAfterTheShortBlocks_stopsAtThatInput() {
        // the function's loop is past its short blocks after the first batch of 100,000
        int[] failAt = {-1};
        SerializableFunction<Integer, Integer> failsLate = x -> {
            if (x == failAt[0]) {
                throw new IllegalStateException("late " + x);
            }
            return -x;
        };
        assertThat(apply(failsLate, range(100_000), new ArrayList<>(), new Throwable[1])).isEqualTo(100_000);
        for (int at : new int[] {0, 4_095, 4_096, 4_097, 99_999}) {
            failAt[0] = at;
            List<Object> results = new ArrayList<>();
            Throwable[] failure = new Throwable[1];
            assertThat(apply(failsLate, range(100_000), results, failure)).isEqualTo(at);
            assertThat(results).hasSize(at);
            if (at > 0) {
                assertThat(results.get(at - 1)).isEqualTo(-(at - 1));
            }
            assertThat(failure[0]).isInstanceOf(IllegalStateException.class).hasMessage("late " + at);
        }
    }

    @Test
    void aTaskThatLeavesItsInterruptFlagSet_doesNotPassItToTheNextInput() {
        SerializableFunction<Integer, Integer> interruptsItself = x -> {
            boolean wasInterrupted = Thread.currentThread().isInterrupted();
            Thread.currentThread().interrupt();
            return wasInterrupted ? 1 : 0;
        };
        List<Object> results = new ArrayList<>();
        assertThat(apply(interruptsItself, range(10_000), results, new Throwable[1])).isEqualTo(10_000);
        assertThat(results).containsOnly(0);
        assertThat(Thread.interrupted()).isFalse();
    }
}
