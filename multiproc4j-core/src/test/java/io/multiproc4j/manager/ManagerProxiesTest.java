package io.multiproc4j.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.multiproc4j.Pool;
import io.multiproc4j.SerializableBiFunction;
import io.multiproc4j.TaskFailedException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Every proxy type, used from worker processes of a process pool, against a manager in its own JVM. */
@Timeout(120)
class ManagerProxiesTest {
    private static Manager manager;
    private static Pool pool;

    @BeforeAll
    static void start() {
        // lambdas given to merge/compute are written in this package: the manager must allow it
        manager = Manager.builder().allowPackages("io.multiproc4j.manager").start();
        pool = Pool.processes(2);
    }

    @AfterAll
    static void stop() {
        if (pool != null) {
            pool.close();
        }
        if (manager != null) {
            manager.close();
        }
    }

    private static List<Integer> range(int n) {
        return IntStream.range(0, n).boxed().toList();
    }

    @Test
    void map_mergeFromWorkers_isAtomic_withPlainAndSerializableFunctions() {
        ConcurrentMap<String, Integer> scores = manager.map("scores");
        pool.map(x -> scores.merge("plain", 1, Integer::sum), range(200), 10);
        SerializableBiFunction<Integer, Integer, Integer> sum = Integer::sum;
        pool.map(x -> scores.merge("serial", 1, sum), range(200), 10);
        pool.map(x -> scores.compute("computed", (k, v) -> (v == null ? 0 : v) + 2), range(50), 5);
        assertThat(scores.get("plain")).isEqualTo(200);
        assertThat(scores.get("serial")).isEqualTo(200);
        assertThat(scores.get("computed")).isEqualTo(100);
        assertThat(scores.keySet()).containsExactlyInAnyOrder("plain", "serial", "computed");
        assertThat(Map.copyOf(scores)).containsEntry("plain", 200).hasSize(3);
    }

    @Test
    void map_serverSideLambda_fromUndeclaredClass_isRefusedWithTheFix() {
        ConcurrentMap<String, Integer> m = manager.map("refusedLambda");
        // a JDK class's serializable lambda would be fine; a lambda from an undeclared package is not
        SerializableBiFunction<Integer, Integer, Integer> fn = io.multiproc4j.manager.evil.Evil.adder();
        assertThatThrownBy(() -> m.merge("k", 1, fn))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("io.multiproc4j.manager.evil.Evil")
                .hasMessageContaining("allowPackages");
    }

    @Test
    void listSetNamespaceValue_fromWorkers_areShared() {
        List<Integer> list = manager.list("numbers");
        Set<Integer> set = manager.set("distinct");
        Namespace ns = manager.namespace("settings");
        ManagedValue<Integer> total = manager.value("total");
        total.set(0);
        pool.map(x -> {
            list.add(x);
            set.add(x % 5);
            ns.set("seen" + x % 3, true);
            return total.updateAndGet(v -> v + x);
        }, range(30), 3);
        assertThat(new ArrayList<>(list)).containsExactlyInAnyOrderElementsOf(range(30));
        assertThat(new HashSet<>(set)).containsExactlyInAnyOrder(0, 1, 2, 3, 4);
        assertThat(ns.names()).containsExactly("seen0", "seen1", "seen2");
        assertThat(total.get()).isEqualTo(435);
        assertThat(list.subList(0, 3)).hasSize(3);
        assertThat(list.stream().mapToInt(Integer::intValue).sum()).isEqualTo(435);
        assertThatThrownBy(() -> list.iterator().remove()).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void queue_roundTrip_parentToWorkerToParent() throws Exception {
        BlockingQueue<String> in = manager.queue("in");
        BlockingQueue<String> out = manager.queue("out", 10);
        CompletableFuture<Integer> echo = pool.applyAsync(n -> {
            try {
                for (int i = 0; i < n; i++) {
                    out.put(in.take().toUpperCase());
                }
                return n;
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, 20);
        for (int i = 0; i < 20; i++) {
            in.put("m" + i);
            assertThat(out.poll(30, TimeUnit.SECONDS)).isEqualTo("M" + i);
        }
        assertThat(echo.get(30, TimeUnit.SECONDS)).isEqualTo(20);
        List<String> drained = new ArrayList<>();
        out.add("x");
        assertThat(out.drainTo(drained)).isEqualTo(1);
        assertThat(drained).containsExactly("x");
    }

    @Test
    void nestedProxies_propagateInnerChanges() {
        List<ConcurrentMap<String, Integer>> outer = manager.list("outer");
        outer.add(manager.map("inner"));
        pool.map(x -> outer.get(0).put("k" + x, x), range(10), 1);
        assertThat(manager.<String, Integer>map("inner")).hasSize(10).containsEntry("k7", 7);
        assertThat(outer.get(0)).isEqualTo(manager.map("inner"));
    }

    @Test
    void lock_fromWorkers_protectsReadModifyWrite() {
        Lock lock = manager.lock("counterLock");
        ManagedValue<Integer> counter = manager.value("lockedCounter");
        counter.set(0);
        pool.map(x -> {
            lock.lock();
            try {
                counter.set(counter.get() + 1);
            } finally {
                lock.unlock();
            }
            return null;
        }, range(200), 10);
        assertThat(counter.get()).isEqualTo(200);
    }

    @Test
    void lock_isNotReentrant_butReentrantLockIs() throws Exception {
        Lock plain = manager.lock("plainLock");
        Lock reentrant = manager.reentrantLock("reentrantLock");
        assertThatThrownBy(() -> pool.applyAsync(x -> {
            plain.lock();
            try {
                plain.lock();
            } finally {
                plain.unlock();
            }
            return x;
        }, 1).join()).hasRootCauseInstanceOf(IllegalStateException.class)
                .hasStackTraceContaining("not reentrant");
        String nested = pool.applyAsync(x -> {
            reentrant.lock();
            reentrant.lock();
            reentrant.unlock();
            // one hold left: another thread (another owner for the manager) must be refused
            boolean heldAfterOneUnlock = !tryLockInAnotherThread(reentrant);
            reentrant.unlock();
            boolean freeAfterTwo = tryLockInAnotherThread(reentrant);
            return heldAfterOneUnlock + " " + freeAfterTwo;
        }, 1).get(30, TimeUnit.SECONDS);
        assertThat(nested).as("held after one of two unlocks, free after both").isEqualTo("true true");
        assertThat(reentrant.tryLock()).isTrue();   // the worker released both holds
        reentrant.unlock();
        assertThat(plain.tryLock()).isTrue();
        plain.unlock();
        assertThatThrownBy(plain::unlock).isInstanceOf(IllegalMonitorStateException.class);
    }

    /** @return whether a fresh thread (a different lock owner) got the lock; it releases it again */
    private static boolean tryLockInAnotherThread(Lock lock) {
        CompletableFuture<Boolean> got = new CompletableFuture<>();
        Thread.ofPlatform().start(() -> {
            try {
                boolean locked = lock.tryLock();
                if (locked) {
                    lock.unlock();
                }
                got.complete(locked);
            } catch (Throwable t) {
                got.completeExceptionally(t);
            }
        });
        try {
            return got.get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("tryLock in another thread failed", e);
        }
    }

    @Test
    void semaphoreEventConditionBarrier_acrossProcesses() throws Exception {
        ManagedSemaphore semaphore = manager.semaphore("sem", 0);
        ManagedEvent started = manager.event("semStarted");
        CompletableFuture<Boolean> acquirer = pool.applyAsync(x -> {
            started.set();
            try {
                return semaphore.tryAcquire(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, 0);
        assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
        semaphore.release();
        assertThat(acquirer.get(30, TimeUnit.SECONDS)).isTrue();
        assertThat(semaphore.availablePermits()).isZero();

        ManagedCondition condition = manager.condition("cond");
        Namespace ns = manager.namespace("condState");
        CompletableFuture<String> waiter = pool.applyAsync(x -> {
            condition.lock();
            try {
                while (!ns.has("go")) {
                    if (!condition.await(30, TimeUnit.SECONDS)) {
                        return "timed out";
                    }
                }
                return ns.get("go");
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            } finally {
                condition.unlock();
            }
        }, 0);
        condition.lock();
        try {
            ns.set("go", "went");
            condition.signalAll();
        } finally {
            condition.unlock();
        }
        assertThat(waiter.get(30, TimeUnit.SECONDS)).isEqualTo("went");

        ManagedBarrier barrier = manager.barrier("barrier", 2);
        CompletableFuture<Integer> party = pool.applyAsync(x -> {
            try {
                return barrier.await(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, 0);
        int mine = barrier.await(30, TimeUnit.SECONDS);
        assertThat(Set.of(mine, party.get(30, TimeUnit.SECONDS))).containsExactlyInAnyOrder(0, 1);
    }

    @Test
    void customType_onlyInterfaceMethods_andExceptionsKeepTheirType() throws Exception {
        manager.register("Counter", Counter.class, CounterImpl::new);
        Counter hits = manager.shared("Counter", "hits", Counter.class);
        pool.map(x -> hits.increment(), range(40), 4);
        assertThat(hits.get()).isEqualTo(40);
        assertThat(hits).isNotInstanceOf(CounterImpl.class);
        assertThatThrownBy(() -> hits.fail("boom"))
                .isInstanceOf(Counter.CounterException.class).hasMessage("boom");
        TaskFailedException remote = org.assertj.core.api.Assertions.catchThrowableOfType(TaskFailedException.class,
                () -> pool.map(x -> {
                    try {
                        hits.fail("in worker");
                    } catch (Counter.CounterException e) {
                        throw new IllegalStateException("caught " + e.getClass().getSimpleName(), e);
                    }
                    return x;
                }, List.of(1)));
        assertThat(remote).hasRootCauseMessage("in worker").hasStackTraceContaining("caught CounterException");

        // a client that claims a wider interface still reaches only the registered one
        ResettableCounter crafted = manager.shared("Counter", "hits", ResettableCounter.class);
        assertThatThrownBy(crafted::reset)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("reset() is not a method of " + Counter.class.getName());
        assertThat(hits.get()).isEqualTo(40);
    }

    @Test
    void badInput_getsClearErrors() {
        assertThatThrownBy(() -> manager.map("scores").put("k", new Object()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("java.lang.Object");
        assertThatThrownBy(() -> manager.queue("q", -1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> manager.barrier("b", 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> manager.register("X", CounterImpl.class, CounterImpl::new))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not an interface");
        assertThatThrownBy(() -> manager.shared("Nope", "n", Counter.class))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no type 'Nope' is registered");
    }
}
