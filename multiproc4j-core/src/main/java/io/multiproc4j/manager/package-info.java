/**
 * Managers: objects owned by a server process, used from any process through proxies that
 * implement the ordinary Java interfaces. Start with {@link io.multiproc4j.manager.Manager}.
 *
 * <p>Conventions: every accessor takes a name, and a name means the same object to every process;
 * a proxy fails with {@link io.multiproc4j.manager.ManagerUnavailableException} when its manager is
 * gone and never hangs on a dead one; the interfaces of this package ({@code Managed*},
 * {@link io.multiproc4j.manager.Namespace}) exist where the JDK has a class but no interface
 * ({@code Semaphore}, {@code CyclicBarrier}).
 */
package io.multiproc4j.manager;
