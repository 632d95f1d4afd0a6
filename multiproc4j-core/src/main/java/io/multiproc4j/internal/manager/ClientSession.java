package io.multiproc4j.internal.manager;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One authenticated connection as the server's shared objects see it: who holds which lock.
 * {@link #closed} is set before the session's locks are swept, and lock acquisition checks it under
 * the lock's guard, so a request that acquires a lock just as its client dies cannot keep it.
 */
final class ClientSession {
    /** The caller of the request this server thread runs: its session and its thread in the client JVM. */
    static final ScopedValue<Caller> CALLER = ScopedValue.newInstance();

    final String remote;
    /** The capability this client authenticated with; {@code null} when it proved the key. */
    final ProxyCapability via;
    volatile boolean closed;
    final Set<ServerSync.OwnedLock> held = ConcurrentHashMap.newKeySet();
    /** guarded by this: the capability issued to this (key) session for the proxies it serializes */
    ProxyCapability issued;

    ClientSession(String remote, ProxyCapability via) {
        this.remote = remote;
        this.via = via;
    }

    /** A client thread: identity is the session (by reference) and the thread id over there. */
    record Caller(ClientSession session, long thread) {
        @Override
        public String toString() {
            return "thread " + thread + " of client " + session.remote;
        }
    }

    static Caller caller() {
        if (!CALLER.isBound()) {
            throw new IllegalStateException("a manager's lock is used through its proxy, not directly");
        }
        return CALLER.get();
    }

    /** Releases every lock this session holds; called once its connection is gone. */
    void releaseLocks() {
        closed = true;
        for (ServerSync.OwnedLock lock : held) {
            lock.releaseAllHeldBy(this);
        }
        held.clear();
    }
}
