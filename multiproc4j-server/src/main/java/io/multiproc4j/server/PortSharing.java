package io.multiproc4j.server;

/** How the workers of a {@link Supervisor} share its one port. */
public enum PortSharing {
    /**
     * Each worker accepts on a listening socket of its own, all bound to the port with
     * {@code SO_REUSEPORT}: the kernel spreads new connections over them, each with its own accept
     * queue. The supervisor keeps a copy of every worker's socket, so a replaced worker's successor
     * inherits it, queued connections included: a reload or a recycle never closes a socket.
     */
    REUSE_PORT,
    /**
     * The supervisor binds one listening socket and passes it to every worker ({@code SCM_RIGHTS}
     * over a Unix-domain socket): gunicorn's model. The kernel wakes one waiting worker per
     * connection; the socket stays open for the supervisor's whole life.
     */
    SHARED_SOCKET,
    /**
     * The supervisor accepts connections on virtual threads, reads each HTTP request and hands it
     * to the least busy worker over the worker's control channel. A worker crash fails only the
     * requests it held (503). Only for {@link Supervisor.Builder#http http} handlers.
     */
    ACCEPTOR
}
