package io.multiproc4j.internal.manager;

import io.multiproc4j.manager.ManagedBarrier;
import io.multiproc4j.manager.ManagedCondition;
import io.multiproc4j.manager.ManagedEvent;
import io.multiproc4j.manager.ManagedSemaphore;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The real synchronization objects behind the sync proxies, living in the manager.
 *
 * <h2>Ownership</h2>
 * The server runs each request on its own virtual thread, so a JDK {@code ReentrantLock} (owned by
 * a thread) cannot stand for a client's lock: two calls of one client thread run on two server
 * threads. {@link OwnedLock} is owned by a {@link ClientSession.Caller} (client connection and
 * client thread id) instead, guarded by a private JDK lock.
 *
 * <h2>Crash handling</h2>
 * When a connection dies the server interrupts its in-flight requests (waiters leave, a barrier
 * breaks) and {@link ClientSession#releaseLocks()} frees the locks it held, waking the next locker.
 * All server-side waits are interruptible for that reason, even for {@link Lock#lock()}: only the
 * client decides whether its caller can be interrupted (it sends CANCEL for interruptible calls).
 */
final class ServerSync {
    private ServerSync() {}

    /** A lock owned by a client thread; reentrant or not. */
    static class OwnedLock implements Lock {
        private final String name;
        private final boolean reentrant;
        final ReentrantLock guard = new ReentrantLock();
        final Condition released = guard.newCondition();
        ClientSession.Caller owner;
        int holds;

        OwnedLock(String name, boolean reentrant) {
            this.name = name;
            this.reentrant = reentrant;
        }

        @Override
        public void lock() {
            try {
                acquire(ClientSession.caller(), -1);
            } catch (InterruptedException e) {
                throw abandoned(e);
            }
        }

        @Override
        public void lockInterruptibly() throws InterruptedException {
            acquire(ClientSession.caller(), -1);
        }

        @Override
        public boolean tryLock() {
            try {
                return acquire(ClientSession.caller(), 0);
            } catch (InterruptedException e) {
                throw abandoned(e);
            }
        }

        @Override
        public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
            return acquire(ClientSession.caller(), Math.max(0, unit.toNanos(time)));
        }

        @Override
        public void unlock() {
            ClientSession.Caller caller = ClientSession.caller();
            guard.lock();
            try {
                if (!caller.equals(owner)) {
                    throw new IllegalMonitorStateException("lock '" + name + "' is not held by " + caller
                            + (owner == null ? "; it is free" : "; it is held by " + owner));
                }
                if (--holds == 0) {
                    owner = null;
                    caller.session().held.remove(this);
                    released.signal();
                }
            } finally {
                guard.unlock();
            }
        }

        @Override
        public Condition newCondition() {
            throw new UnsupportedOperationException("use Manager.condition(name) for a lock with a condition");
        }

        /** @param nanos how long to wait, or -1 for as long as it takes */
        boolean acquire(ClientSession.Caller caller, long nanos) throws InterruptedException {
            guard.lockInterruptibly();
            try {
                if (caller.equals(owner)) {
                    if (!reentrant) {
                        if (nanos >= 0) {
                            return false;  // tryLock: the holder cannot have it twice
                        }
                        // lock(): waiting for ourselves would never end; say so instead
                        throw new IllegalStateException("lock '" + name + "' is not reentrant and " + caller
                                + " holds it already; use Manager.reentrantLock(name) for a reentrant lock");
                    }
                    holds++;
                    return true;
                }
                while (owner != null) {
                    if (nanos < 0) {
                        released.await();
                    } else if (nanos == 0) {
                        return false;
                    } else {
                        nanos = released.awaitNanos(nanos);
                        if (nanos <= 0 && owner != null) {
                            return false;
                        }
                    }
                }
                take(caller, 1);
                return true;
            } finally {
                guard.unlock();
            }
        }

        /** Makes the caller the owner; the guard is held and the lock is free. */
        void take(ClientSession.Caller caller, int count) {
            if (caller.session().closed) {
                // the client died while this request waited: it must not become the owner
                released.signal();
                throw new IllegalStateException("client " + caller.session().remote + " is gone");
            }
            owner = caller;
            holds = count;
            caller.session().held.add(this);
            if (caller.session().closed) {
                // the session closed between the check above and the add: its sweep may have missed
                // this lock (it sets closed, then walks held), so undo here; a double undo is harmless
                owner = null;
                holds = 0;
                caller.session().held.remove(this);
                released.signal();
                throw new IllegalStateException("client " + caller.session().remote + " is gone");
            }
        }

        void releaseAllHeldBy(ClientSession session) {
            guard.lock();
            try {
                if (owner != null && owner.session() == session) {
                    owner = null;
                    holds = 0;
                    released.signal();
                }
            } finally {
                guard.unlock();
            }
        }

        /** The manager interrupts a request only when its client is gone; nobody waits for this answer. */
        static IllegalStateException abandoned(InterruptedException e) {
            Thread.currentThread().interrupt();
            return new IllegalStateException("the client left while waiting", e);
        }

        @Override
        public String toString() {
            guard.lock();
            try {
                return (reentrant ? "ReentrantLock" : "Lock") + "['" + name + "', "
                        + (owner == null ? "free" : "held by " + owner + (reentrant ? " " + holds + "x" : "")) + "]";
            } finally {
                guard.unlock();
            }
        }
    }

    /** A reentrant owned lock with one condition. */
    static final class ServerCondition extends OwnedLock implements ManagedCondition {
        private final Condition signals = guard.newCondition();

        ServerCondition(String name) {
            super(name, true);
        }

        @Override
        public void await() throws InterruptedException {
            await(-1);
        }

        @Override
        public boolean await(long timeout, TimeUnit unit) throws InterruptedException {
            return await(Math.max(0, unit.toNanos(timeout)));
        }

        private boolean await(long nanos) throws InterruptedException {
            ClientSession.Caller caller = ClientSession.caller();
            guard.lock();
            try {
                requireOwner(caller);
                int saved = holds;
                owner = null;
                holds = 0;
                caller.session().held.remove(this);
                released.signal();
                boolean signalled = true;
                InterruptedException interrupted = null;
                try {
                    if (nanos < 0) {
                        signals.await();
                    } else {
                        signalled = signals.awaitNanos(nanos) > 0;
                    }
                } catch (InterruptedException e) {
                    interrupted = e;
                }
                // take the lock back before returning, as Condition.await does
                while (owner != null) {
                    released.awaitUninterruptibly();
                }
                take(caller, saved);
                if (interrupted != null) {
                    throw interrupted;
                }
                return signalled;
            } finally {
                guard.unlock();
            }
        }

        @Override
        public void signal() {
            guard.lock();
            try {
                requireOwner(ClientSession.caller());
                signals.signal();
            } finally {
                guard.unlock();
            }
        }

        @Override
        public void signalAll() {
            guard.lock();
            try {
                requireOwner(ClientSession.caller());
                signals.signalAll();
            } finally {
                guard.unlock();
            }
        }

        private void requireOwner(ClientSession.Caller caller) {
            if (!caller.equals(owner)) {
                throw new IllegalMonitorStateException("the condition's lock must be held by " + caller
                        + " to wait or signal; call lock() first");
            }
        }
    }

    /** A semaphore: permits are not owned, as with the JDK's. */
    static final class ServerSemaphore implements ManagedSemaphore {
        private final Semaphore semaphore;

        ServerSemaphore(int permits) {
            this.semaphore = new Semaphore(permits, true);
        }

        @Override
        public void acquire() throws InterruptedException {
            semaphore.acquire();
        }

        @Override
        public boolean tryAcquire() {
            return semaphore.tryAcquire();
        }

        @Override
        public boolean tryAcquire(long timeout, TimeUnit unit) throws InterruptedException {
            return semaphore.tryAcquire(timeout, unit);
        }

        @Override
        public void release() {
            semaphore.release();
        }

        @Override
        public int availablePermits() {
            return semaphore.availablePermits();
        }

        @Override
        public String toString() {
            return "Semaphore[permits=" + semaphore.availablePermits() + "]";
        }
    }

    /** An event flag. */
    static final class ServerEvent implements ManagedEvent {
        private final ReentrantLock guard = new ReentrantLock();
        private final Condition changed = guard.newCondition();
        private boolean set;

        @Override
        public void set() {
            guard.lock();
            try {
                set = true;
                changed.signalAll();
            } finally {
                guard.unlock();
            }
        }

        @Override
        public void clear() {
            guard.lock();
            try {
                set = false;
            } finally {
                guard.unlock();
            }
        }

        @Override
        public boolean isSet() {
            guard.lock();
            try {
                return set;
            } finally {
                guard.unlock();
            }
        }

        @Override
        public void await() throws InterruptedException {
            guard.lockInterruptibly();
            try {
                while (!set) {
                    changed.await();
                }
            } finally {
                guard.unlock();
            }
        }

        @Override
        public boolean await(long timeout, TimeUnit unit) throws InterruptedException {
            long nanos = unit.toNanos(timeout);
            guard.lockInterruptibly();
            try {
                while (!set) {
                    if (nanos <= 0) {
                        return false;
                    }
                    nanos = changed.awaitNanos(nanos);
                }
                return true;
            } finally {
                guard.unlock();
            }
        }

        @Override
        public String toString() {
            return "Event[" + (isSet() ? "set" : "clear") + "]";
        }
    }

    /** A cyclic barrier; a party's server thread is interrupted when its client dies, breaking it. */
    static final class ServerBarrier implements ManagedBarrier {
        private final CyclicBarrier barrier;

        ServerBarrier(int parties) {
            this.barrier = new CyclicBarrier(parties);
        }

        @Override
        public int await() throws InterruptedException, BrokenBarrierException {
            return barrier.await();
        }

        @Override
        public int await(long timeout, TimeUnit unit)
                throws InterruptedException, BrokenBarrierException, TimeoutException {
            return barrier.await(timeout, unit);
        }

        @Override
        public int parties() {
            return barrier.getParties();
        }

        @Override
        public int waiting() {
            return barrier.getNumberWaiting();
        }

        @Override
        public boolean isBroken() {
            return barrier.isBroken();
        }

        @Override
        public void reset() {
            barrier.reset();
        }

        @Override
        public String toString() {
            return "Barrier[" + barrier.getNumberWaiting() + "/" + barrier.getParties() + " waiting]";
        }
    }
}
