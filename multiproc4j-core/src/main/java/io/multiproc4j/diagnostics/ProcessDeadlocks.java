package io.multiproc4j.diagnostics;

import io.multiproc4j.sync.ProcessLockInfo;
import io.multiproc4j.sync.ProcessLockInfo.ThreadRef;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Deadlocks across processes: the wait-for graph of every {@code ProcessLock} and
 * {@code ProcessReentrantLock} on this machine, and the cycles in it. The JDK's detector
 * ({@link DeadlockWatchdog}) sees one JVM; two processes that each hold one process lock and wait for
 * the other's are invisible to it, and this class finds them.
 * {@snippet :
 * for (ProcessDeadlocks.Cycle cycle : ProcessDeadlocks.find()) {
 *     System.err.print(cycle.describe());   // who holds what, who waits for what, in which process
 * }
 * }
 *
 * <h2>Data flow</h2>
 * {@link ProcessLockInfo#all()} reads each lock's holder (pid, thread id) and its recorded waiters
 * from shared memory. Each waiter thread gets an edge to the holder thread of the lock it waits for,
 * labelled with that lock; a thread waits for at most one lock at a time, so a deadlock is a cycle of
 * these edges. Threads are named by pid and {@link Thread#threadId()}.
 *
 * <h2>Limits</h2>
 * The snapshot is read without locking, lock by lock: a cycle seen here may have been broken a moment
 * later (a {@code tryLock} with a timeout gives up), so a tool should look twice before it acts. A lock
 * whose holder is dead is not part of a deadlock (the next locker takes it over) and gives no edge.
 * Waiters beyond the lock's 16 recorded slots are counted but not named, so a cycle through one of
 * them is missed. Locks of managers and of the cluster are not process locks and are not seen.
 */
public final class ProcessDeadlocks {
    private ProcessDeadlocks() {}

    /**
     * A thread of some process.
     * @param pid      the process id
     * @param threadId its {@link Thread#threadId()} in that process
     */
    public record Party(long pid, long threadId) {
        @Override
        public String toString() {
            return "thread " + threadId + " of process " + pid;
        }
    }

    /**
     * One wait: {@code waiter} waits for {@code lock}, which {@code holder} holds.
     * @param waiter the waiting thread
     * @param lock   the name of the lock it waits for
     * @param holder the thread holding that lock
     */
    public record Edge(Party waiter, String lock, Party holder) {}

    /**
     * A deadlock: each thread waits for a lock the next one holds, and the last waits for the first's.
     * @param edges the waits, in cycle order
     */
    public record Cycle(List<Edge> edges) {
        /**
         * @param edges the waits, in cycle order, at least one
         */
        public Cycle {
            edges = List.copyOf(edges);
            if (edges.isEmpty()) {
                throw new IllegalArgumentException("a cycle has at least one edge");
            }
        }

        /** @return the processes taking part, in cycle order, each once */
        public List<Long> pids() {
            return edges.stream().map(e -> e.waiter().pid()).distinct().toList();
        }

        /** @return the threads taking part, in cycle order */
        public List<Party> parties() {
            return edges.stream().map(Edge::waiter).toList();
        }

        /** @return one line per thread: what it holds, what it waits for, and who holds that */
        public String describe() {
            return describe(Map.of());
        }

        /**
         * @param threadNames names of the threads where known (a tool may read them from each process's
         *                    thread dump); others are named by id
         * @return one line per thread: what it holds, what it waits for, and who holds that
         */
        public String describe(Map<Party, String> threadNames) {
            StringBuilder b = new StringBuilder();
            int processes = pids().size();
            b.append("Deadlock across ").append(processes).append(processes == 1 ? " process" : " processes")
                    .append(": ").append(edges.size()).append(" threads wait for each other's process locks.\n");
            for (int i = 0; i < edges.size(); i++) {
                Edge e = edges.get(i);
                Edge before = edges.get((i + edges.size() - 1) % edges.size());
                b.append("  ").append(name(e.waiter(), threadNames)).append(command(e.waiter().pid()))
                        .append(" holds lock \"").append(before.lock()).append("\" and waits for lock \"")
                        .append(e.lock()).append("\", held by ").append(name(e.holder(), threadNames)).append(".\n");
            }
            return b.toString();
        }

        private static String name(Party p, Map<Party, String> names) {
            String n = names.get(p);
            return n == null ? p.toString() : "thread " + p.threadId() + " \"" + n + "\" of process " + p.pid();
        }

        private static String command(long pid) {
            return ProcessHandle.of(pid).flatMap(h -> h.info().command())
                    .map(c -> " (" + c.substring(c.lastIndexOf('/') + 1) + ")").orElse("");
        }
    }

    /** @return every deadlock among the process locks of this machine now */
    public static List<Cycle> find() {
        return find(ProcessLockInfo.all());
    }

    /**
     * @param pid a process id
     * @return the deadlocks that a thread of that process takes part in
     */
    public static List<Cycle> involving(long pid) {
        return find().stream().filter(c -> c.pids().contains(pid)).toList();
    }

    /**
     * Builds the wait-for graph of the given snapshots and returns its cycles.
     * @param locks snapshots of process locks ({@link ProcessLockInfo#all()})
     * @return each cycle once, starting at its smallest (pid, thread id)
     */
    public static List<Cycle> find(Collection<ProcessLockInfo> locks) {
        Objects.requireNonNull(locks, "locks");
        Map<Party, List<Edge>> out = new LinkedHashMap<>();
        for (ProcessLockInfo lock : locks) {
            ThreadRef h = lock.holder();
            if (h == null || !h.alive()) {
                continue; // free, or its holder died: the next locker takes it over, nobody is stuck for good
            }
            Party holder = new Party(h.pid(), h.threadId());
            for (ThreadRef w : lock.waiters()) {
                Party waiter = new Party(w.pid(), w.threadId());
                if (!waiter.equals(holder)) {
                    out.computeIfAbsent(waiter, k -> new ArrayList<>()).add(new Edge(waiter, lock.name(), holder));
                }
            }
        }
        List<Cycle> cycles = new ArrayList<>();
        Set<List<Party>> seen = new HashSet<>();
        for (Party start : out.keySet()) {
            walk(start, new ArrayList<>(), out, cycles, seen);
        }
        return cycles;
    }

    /** Depth-first from {@code path}'s end; a cycle is recorded when the walk comes back to the path's start. */
    private static void walk(Party at, List<Edge> path, Map<Party, List<Edge>> out, List<Cycle> cycles,
                             Set<List<Party>> seen) {
        for (Edge e : out.getOrDefault(at, List.of())) {
            Party start = path.isEmpty() ? at : path.getFirst().waiter();
            if (e.holder().equals(start)) {
                List<Edge> cycle = new ArrayList<>(path);
                cycle.add(e);
                record(cycle, cycles, seen);
                continue;
            }
            Predicate<Party> onPath = p -> path.stream().anyMatch(x -> x.waiter().equals(p)) || p.equals(at);
            if (onPath.test(e.holder()) || path.size() > 64) {
                continue; // a cycle that does not pass through the start: found from its own smallest member
            }
            path.add(e);
            walk(e.holder(), path, out, cycles, seen);
            path.removeLast();
        }
    }

    private static void record(List<Edge> cycle, List<Cycle> cycles, Set<List<Party>> seen) {
        int first = 0;
        for (int i = 1; i < cycle.size(); i++) {
            Party p = cycle.get(i).waiter();
            Party best = cycle.get(first).waiter();
            if (p.pid() < best.pid() || (p.pid() == best.pid() && p.threadId() < best.threadId())) {
                first = i;
            }
        }
        List<Edge> rotated = new ArrayList<>();
        for (int i = 0; i < cycle.size(); i++) {
            rotated.add(cycle.get((first + i) % cycle.size()));
        }
        if (seen.add(rotated.stream().map(Edge::waiter).toList())) {
            cycles.add(new Cycle(rotated));
        }
    }
}
