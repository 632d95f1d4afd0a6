package io.multiproc4j.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.internal.engine.Slot.State;
import io.multiproc4j.internal.supervise.ExitCause;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The engine's state machine of one worker, walked move by move against the diagram in
 * {@link Slot}'s overview. The moves and the victim bookkeeping never touch the worker's process,
 * so the slots here have none; the engine's tests with real worker JVMs (ProcessEngineLifecycleTest,
 * EngineLateResultsTest in multiproc4j-testkit) drive the same moves through real exits.
 */
class SlotStateTest {
    /** The diagram, move by move: anything else is refused. */
    private static final Map<State, EnumSet<State>> DRAWN = Map.of(
            State.STARTING, EnumSet.of(State.SERVING),
            State.SERVING, EnumSet.of(State.STOPPING, State.LEAVING, State.KILLING),
            State.KILLING, EnumSet.of(State.KILLING),
            State.STOPPING, EnumSet.noneOf(State.class),
            State.LEAVING, EnumSet.noneOf(State.class));

    private static Dispatch batch() {
        return new Dispatch(null, List.of(), 0);
    }

    @Test
    void everyMoveTheDiagramDraws_isAllowed_andEveryOtherIsRefused() {
        assertThat(DRAWN.keySet()).containsExactlyInAnyOrder(State.values());
        for (State from : State.values()) {
            for (State to : State.values()) {
                assertThat(from.canMoveTo(to)).as(from + " → " + to).isEqualTo(DRAWN.get(from).contains(to));
            }
        }
    }

    @Test
    void aSlotStartsStarting_andCanOnlyBecomeServing() {
        var slot = new Slot(null);
        assertThat(slot.state()).isEqualTo(State.STARTING);
        assertThat(slot.moveTo(State.STOPPING)).isFalse();
        assertThat(slot.killFor(batch(), ExitCause.TASK_TIMEOUT)).as("nothing of a starting worker runs").isFalse();
        assertThat(slot.victim()).isNull();
        assertThat(slot.state()).isEqualTo(State.STARTING);
        assertThat(slot.moveTo(State.SERVING)).isTrue();
        assertThat(slot.state()).isEqualTo(State.SERVING);
    }

    @Test
    void aKillForATimeout_namesItsBatch_aSecondKillForThatBatchChangesNothing_andACancelOfTheNextBatchTakesOver() {
        var slot = new Slot(null);
        slot.moveTo(State.SERVING);
        Dispatch first = batch();
        Dispatch next = batch();
        assertThat(slot.killFor(first, ExitCause.TASK_TIMEOUT)).isTrue();
        assertThat(slot.state()).isEqualTo(State.KILLING);
        assertThat(slot.victim()).isSameAs(first);
        assertThat(slot.killedFor()).isEqualTo(ExitCause.TASK_TIMEOUT);
        // the same batch cancelled while its worker is being killed for its timeout: the timeout stands
        assertThat(slot.killFor(first, ExitCause.CANCELLED)).isFalse();
        assertThat(slot.killedFor()).isEqualTo(ExitCause.TASK_TIMEOUT);
        // the first finished before the exit was seen; the batch running now is cancelled
        assertThat(slot.killFor(next, ExitCause.CANCELLED)).isTrue();
        assertThat(slot.victim()).isSameAs(next);
        assertThat(slot.killedFor()).isEqualTo(ExitCause.CANCELLED);
        // a worker being killed is not asked to stop, nor does it leave or serve again
        assertThat(slot.moveTo(State.STOPPING)).isFalse();
        assertThat(slot.moveTo(State.LEAVING)).isFalse();
        assertThat(slot.moveTo(State.SERVING)).isFalse();
        assertThat(slot.state()).isEqualTo(State.KILLING);
    }

    @Test
    void aStoppingOrLeavingWorker_runsNothing_soItIsNeverKilledForABatch_andOnlyItsExitIsLeft() {
        for (State end : List.of(State.STOPPING, State.LEAVING)) {
            var slot = new Slot(null);
            slot.moveTo(State.SERVING);
            assertThat(slot.moveTo(end)).isTrue();
            assertThat(slot.killFor(batch(), ExitCause.CANCELLED)).as(end + ": killed for a batch").isFalse();
            assertThat(slot.victim()).isNull();
            for (State to : State.values()) {
                assertThat(slot.moveTo(to)).as(end + " → " + to).isFalse();
            }
            assertThat(slot.state()).isEqualTo(end);
        }
    }
}
