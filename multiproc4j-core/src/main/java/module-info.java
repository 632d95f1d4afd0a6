/**
 * multiproc4j: parallel and asynchronous Java on threads, worker JVMs and machines, behind one API.
 * Only API packages are exported; {@code io.multiproc4j.internal.*} is not.
 */
@SuppressWarnings("module") // the qualified exports name sibling modules that are not compiled with this one
module io.multiproc4j {
    requires transitive java.management;
    requires jdk.jfr;
    requires jdk.net;  // SO_PEERCRED of Unix-domain clients (internal.transport.PeerCredentials)

    exports io.multiproc4j;
    exports io.multiproc4j.spi;
    exports io.multiproc4j.shared;
    exports io.multiproc4j.sync;
    exports io.multiproc4j.manager;
    exports io.multiproc4j.diagnostics;
    exports io.multiproc4j.ipc;
    exports io.multiproc4j.internal.supervise to io.multiproc4j.server;
    exports io.multiproc4j.internal.transport to io.multiproc4j.server;
}
