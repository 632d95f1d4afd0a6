package io.multiproc4j.internal.manager;

import io.multiproc4j.manager.ManagedBarrier;
import io.multiproc4j.manager.ManagedCondition;
import io.multiproc4j.manager.ManagedEvent;
import io.multiproc4j.manager.ManagedSemaphore;
import io.multiproc4j.manager.ManagedValue;
import io.multiproc4j.manager.Namespace;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.locks.Lock;

/**
 * The built-in kinds of shared object: the interface a proxy implements (the only methods a client
 * can reach) and how the manager creates the real object.
 */
public enum Kind {
    /** A {@code ConcurrentHashMap}. */
    MAP(ConcurrentMap.class),
    /** A synchronized {@code ArrayList}. */
    LIST(List.class),
    /** A concurrent hash set. */
    SET(Set.class),
    /** A {@code LinkedBlockingQueue}, bounded by the parameter when it is positive. */
    QUEUE(BlockingQueue.class),
    /** Named attributes. */
    NAMESPACE(Namespace.class),
    /** One value. */
    VALUE(ManagedValue.class),
    /** A lock that its holder cannot take again. */
    LOCK(Lock.class),
    /** A reentrant lock. */
    REENTRANT_LOCK(Lock.class),
    /** A semaphore with the parameter as its permits. */
    SEMAPHORE(ManagedSemaphore.class),
    /** An event flag. */
    EVENT(ManagedEvent.class),
    /** A reentrant lock with a condition. */
    CONDITION(ManagedCondition.class),
    /** A cyclic barrier for the parameter's number of parties. */
    BARRIER(ManagedBarrier.class);

    /** The interface of the proxy. */
    public final Class<?> face;

    Kind(Class<?> face) {
        this.face = face;
    }

    Object create(String name, int parameter) {
        return switch (this) {
            case MAP -> new ConcurrentHashMap<>();
            case LIST -> Collections.synchronizedList(new ArrayList<>());
            case SET -> ConcurrentHashMap.newKeySet();
            case QUEUE -> new LinkedBlockingQueue<>(parameter > 0 ? parameter : Integer.MAX_VALUE);
            case NAMESPACE -> new ServerValues.ServerNamespace();
            case VALUE -> new ServerValues.ServerValue();
            case LOCK -> new ServerSync.OwnedLock(name, false);
            case REENTRANT_LOCK -> new ServerSync.OwnedLock(name, true);
            case SEMAPHORE -> new ServerSync.ServerSemaphore(parameter);
            case EVENT -> new ServerSync.ServerEvent();
            case CONDITION -> new ServerSync.ServerCondition(name);
            case BARRIER -> new ServerSync.ServerBarrier(parameter);
        };
    }
}
