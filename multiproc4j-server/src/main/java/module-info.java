/**
 * multiproc4j-server: a supervisor that runs N copies of a server application as worker JVMs behind
 * one port. JDK only at runtime.
 */
module io.multiproc4j.server {
    requires transitive io.multiproc4j;
    requires transitive jdk.httpserver;

    exports io.multiproc4j.server;
}
