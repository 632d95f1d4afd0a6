package io.multiproc4j.diagnostics;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.sync.ProcessLockInfo;
import io.multiproc4j.sync.ProcessLockInfo.ThreadRef;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The cross-process wait-for graph, built from lock snapshots as {@code ProcessLockInfo.all()} gives them. */
class ProcessDeadlocksTest {
    private static ThreadRef holder(long pid, long thread) {
        return new ThreadRef(pid, 1, thread, true);
    }

    private static ThreadRef waiter(long pid, long thread) {
        return new ThreadRef(pid, 0, thread, true);
    }

    private static ProcessLockInfo lock(String name, ThreadRef holder, ThreadRef... waiters) {
        return new ProcessLockInfo(name, false, holder, holder == null ? 0 : 1, waiters.length, List.of(waiters), 0);
    }

    @Test
    void twoProcessesWaitingForEachOthersLock_isOneCycle_namingHoldersAndWaiters() {
        List<ProcessDeadlocks.Cycle> cycles = ProcessDeadlocks.find(List.of(
                lock("A", holder(200, 7), waiter(100, 3)),
                lock("B", holder(100, 3), waiter(200, 7))));
        assertThat(cycles).hasSize(1);
        ProcessDeadlocks.Cycle c = cycles.getFirst();
        assertThat(c.pids()).containsExactly(100L, 200L);
        assertThat(c.edges()).extracting(ProcessDeadlocks.Edge::lock).containsExactly("A", "B");
        assertThat(c.describe()).startsWith("Deadlock across 2 processes: 2 threads")
                .contains("thread 3 of process 100").contains("holds lock \"B\" and waits for lock \"A\", held by thread 7 of process 200")
                .contains("thread 7 of process 200").contains("holds lock \"A\" and waits for lock \"B\", held by thread 3 of process 100");
    }

    @Test
    void describe_usesThreadNamesWhereKnown_andIdsElsewhere() {
        ProcessDeadlocks.Cycle c = ProcessDeadlocks.find(List.of(
                lock("A", holder(200, 7), waiter(100, 3)),
                lock("B", holder(100, 3), waiter(200, 7)))).getFirst();
        String s = c.describe(java.util.Map.of(new ProcessDeadlocks.Party(100, 3), "importer"));
        assertThat(s).contains("thread 3 \"importer\" of process 100").contains("held by thread 3 \"importer\" of process 100")
                .contains("thread 7 of process 200");
    }

    @Test
    void threeProcessesInARing_areOneCycleOfThree_reportedOnce() {
        List<ProcessDeadlocks.Cycle> cycles = ProcessDeadlocks.find(List.of(
                lock("A", holder(1, 1), waiter(3, 1)),
                lock("B", holder(2, 1), waiter(1, 1)),
                lock("C", holder(3, 1), waiter(2, 1))));
        assertThat(cycles).hasSize(1);
        assertThat(cycles.getFirst().pids()).containsExactly(1L, 2L, 3L);
    }

    @Test
    void aChainOfWaits_withoutCycle_isNoDeadlock() {
        assertThat(ProcessDeadlocks.find(List.of(
                lock("A", holder(1, 1), waiter(2, 1), waiter(3, 1)),
                lock("B", holder(2, 1), waiter(4, 1)),
                lock("C", null)))).isEmpty();
    }

    @Test
    void aCycleThroughADeadHolder_isNoDeadlock_theNextLockerTakesOver() {
        assertThat(ProcessDeadlocks.find(List.of(
                lock("A", new ThreadRef(200, 1, 7, false), waiter(100, 3)),
                lock("B", holder(100, 3), waiter(200, 7))))).isEmpty();
    }

    @Test
    void twoThreadsOfOneProcess_areADeadlockInOneProcess() {
        List<ProcessDeadlocks.Cycle> cycles = ProcessDeadlocks.find(List.of(
                lock("A", holder(5, 1), waiter(5, 2)),
                lock("B", holder(5, 2), waiter(5, 1))));
        assertThat(cycles).hasSize(1);
        assertThat(cycles.getFirst().describe()).startsWith("Deadlock across 1 process:");
    }

    @Test
    void twoSeparateCycles_areBothFound_andAnUnrelatedWaiterIsNot() {
        List<ProcessDeadlocks.Cycle> cycles = ProcessDeadlocks.find(List.of(
                lock("A", holder(2, 1), waiter(1, 1), waiter(9, 9)),
                lock("B", holder(1, 1), waiter(2, 1)),
                lock("C", holder(4, 1), waiter(3, 1)),
                lock("D", holder(3, 1), waiter(4, 1))));
        assertThat(cycles).hasSize(2);
        assertThat(cycles).allSatisfy(c -> assertThat(c.pids()).doesNotContain(9L));
    }
}
