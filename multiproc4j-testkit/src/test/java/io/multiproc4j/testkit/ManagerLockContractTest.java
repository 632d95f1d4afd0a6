package io.multiproc4j.testkit;

import io.multiproc4j.manager.Manager;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Lock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;

/**
 * {@link LockContract} bound to a manager's lock proxies (the manager in its own JVM): the plain
 * lock, the reentrant lock and the condition's lock. Manager locks have no {@code newCondition()};
 * conditions are {@code Manager.condition(name)}, covered by the manager's own tests.
 */
class ManagerLockContractTest {
    private static final AtomicInteger NAMES = new AtomicInteger();
    private static Manager manager;

    @BeforeAll
    static void start() {
        manager = Manager.start();
    }

    @AfterAll
    static void stop() {
        if (manager != null) {
            manager.close();
        }
    }

    @Nested
    class PlainLock extends LockContract {
        @Override
        protected Lock newLock() {
            return manager.lock("lock-" + NAMES.incrementAndGet());
        }

        @Override
        protected boolean isReentrant() {
            return false;
        }

        @Override
        protected boolean supportsConditions() {
            return false;
        }
    }

    @Nested
    class ReentrantLock extends LockContract {
        @Override
        protected Lock newLock() {
            return manager.reentrantLock("reentrant-" + NAMES.incrementAndGet());
        }

        @Override
        protected boolean isReentrant() {
            return true;
        }

        @Override
        protected boolean supportsConditions() {
            return false;
        }
    }

    @Nested
    class ConditionLock extends LockContract {
        @Override
        protected Lock newLock() {
            return manager.condition("condition-" + NAMES.incrementAndGet());
        }

        @Override
        protected boolean isReentrant() {
            return true;
        }

        @Override
        protected boolean supportsConditions() {
            return false;
        }
    }
}
