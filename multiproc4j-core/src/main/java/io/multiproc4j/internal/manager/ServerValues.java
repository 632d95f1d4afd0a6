package io.multiproc4j.internal.manager;

import io.multiproc4j.SerializableFunction;
import io.multiproc4j.manager.ManagedValue;
import io.multiproc4j.manager.Namespace;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/** The real namespace and value objects, living in the manager. */
final class ServerValues {
    private ServerValues() {}

    static final class ServerNamespace implements Namespace {
        private final ConcurrentHashMap<String, Object> attributes = new ConcurrentHashMap<>();

        @Override
        @SuppressWarnings("unchecked")
        public <T> T get(String attribute) {
            return (T) attributes.get(attribute);
        }

        @Override
        public void set(String attribute, Object value) {
            if (value == null) {
                attributes.remove(attribute);
            } else {
                attributes.put(attribute, value);
            }
        }

        @Override
        public boolean has(String attribute) {
            return attributes.containsKey(attribute);
        }

        @Override
        public Object remove(String attribute) {
            return attributes.remove(attribute);
        }

        @Override
        public Set<String> names() {
            return new TreeSet<>(attributes.keySet());
        }

        @Override
        public Map<String, Object> snapshot() {
            return new LinkedHashMap<>(attributes);
        }

        @Override
        public String toString() {
            return "Namespace" + new java.util.TreeMap<>(attributes);
        }
    }

    static final class ServerValue implements ManagedValue<Object> {
        private Object value;

        @Override
        public synchronized Object get() {
            return value;
        }

        @Override
        public synchronized void set(Object value) {
            this.value = value;
        }

        @Override
        public synchronized Object getAndSet(Object value) {
            Object old = this.value;
            this.value = value;
            return old;
        }

        @Override
        public synchronized boolean compareAndSet(Object expected, Object value) {
            if (!Objects.equals(this.value, expected)) {
                return false;
            }
            this.value = value;
            return true;
        }

        @Override
        public synchronized Object updateAndGet(SerializableFunction<Object, Object> update) {
            value = update.apply(value);
            return value;
        }

        @Override
        public synchronized String toString() {
            return "Value[" + value + "]";
        }
    }
}
