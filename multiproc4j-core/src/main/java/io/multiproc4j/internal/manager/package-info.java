/**
 * The manager's server, protocol and proxies.
 *
 * <pre>
 *  proxy (java.lang.reflect.Proxy) ─► {@link io.multiproc4j.internal.manager.ProxyHandler}
 *      ─► {@link io.multiproc4j.internal.manager.ClientConnection} (one per manager per JVM)
 *      ─► {@link io.multiproc4j.internal.manager.ManagerChannel} ═══ socket ═══ ManagerChannel
 *      ─► {@link io.multiproc4j.internal.manager.ManagerServer} ─► the real object (Kind, ServerSync, ServerValues)
 * </pre>
 *
 * Wire format: {@link io.multiproc4j.internal.manager.ManagerLayout}. Authentication:
 * {@link io.multiproc4j.internal.manager.Handshake}. What the server deserializes:
 * {@link io.multiproc4j.internal.manager.AllowlistFilter}. A manager JVM's main:
 * {@link io.multiproc4j.internal.manager.ManagerServerMain}.
 */
package io.multiproc4j.internal.manager;
