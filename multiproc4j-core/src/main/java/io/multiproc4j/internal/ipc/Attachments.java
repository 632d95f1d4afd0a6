package io.multiproc4j.internal.ipc;

import io.multiproc4j.internal.shm.Segment;
import io.multiproc4j.shared.SharedMemoryException;
import java.lang.ref.Cleaner;
import java.lang.ref.WeakReference;
import java.util.HashMap;
import java.util.Map;

/**
 * Mappings of pipes and queues that arrived in this JVM as deserialized handles.
 *
 * <pre>
 *  readObject(name, nonce) ─► cached and alive? ─yes─► share it
 *                                  │ no
 *                                  ▼
 *                  Segment.attach(name) ─► check nonce ─► new Attachment, cleaner registered
 *  last handle unreachable ─► GC ─► cleaner: unmap, forget
 * </pre>
 *
 * <p>Why not {@code Segment.attachCached}: it keeps every mapping until the JVM exits. A pool
 * worker lives long and may receive thousands of short-lived pipes and queues, each with rings of
 * megabytes; their pages would stay allocated in {@code /dev/shm} (unlinked, but mapped) for the
 * worker's whole life. Here a mapping lives as long as some handle of this JVM uses it.
 *
 * <h2>Concurrency</h2>
 * Lookups and inserts hold the map's monitor (attaching is rare and slow anyway). The cleaner
 * runs after the last handle became unreachable, so nothing can be using the mapping; handles
 * guard their blocking calls with {@link java.lang.ref.Reference#reachabilityFence} so that a
 * handle stays reachable while one of its calls runs.
 */
public final class Attachments {
    private static final Cleaner CLEANER = Cleaner.create();
    private static final Map<String, WeakReference<Attachment>> CACHE = new HashMap<>();

    private Attachments() {}

    /** A mapping shared by the handles of one JVM; unmapped once none of them is reachable. */
    public static final class Attachment {
        private final Segment segment;

        private Attachment(Segment segment) {
            this.segment = segment;
        }

        /** @return the mapped segment */
        public Segment segment() {
            return segment;
        }
    }

    /**
     * @param name  the segment's name
     * @param nonce the creation nonce the handle carries
     * @return a live mapping of that very segment
     * @throws SharedMemoryException when it is gone, or was re-created under the same name
     */
    public static Attachment attach(String name, long nonce) {
        String key = name + "#" + nonce;
        synchronized (CACHE) {
            WeakReference<Attachment> ref = CACHE.get(key);
            Attachment cached = ref == null ? null : ref.get();
            if (cached != null && !cached.segment.isClosed()) {
                return cached;
            }
            Segment segment = Segment.attach(name);
            if (segment.nonce() != nonce) {
                segment.close();
                throw new SharedMemoryException("shared memory '" + name + "' was closed by its owner and created "
                        + "again; this handle refers to the old one");
            }
            Attachment attachment = new Attachment(segment);
            CACHE.put(key, new WeakReference<>(attachment));
            CLEANER.register(attachment, () -> {
                segment.close();
                synchronized (CACHE) {
                    WeakReference<Attachment> current = CACHE.get(key);
                    if (current != null && current.get() == null) {
                        CACHE.remove(key);
                    }
                }
            });
            return attachment;
        }
    }

    /** @return mappings currently cached (live or awaiting their cleaner); diagnostics and tests */
    public static int cached() {
        synchronized (CACHE) {
            return CACHE.size();
        }
    }
}
