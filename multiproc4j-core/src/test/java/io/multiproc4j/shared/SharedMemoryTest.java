package io.multiproc4j.shared;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class SharedMemoryTest {
    private static String uniqueName() {
        return "test-" + UUID.randomUUID();
    }

    private static Path file(String name) {
        return Path.of("/dev/shm", "mp4j-" + name);
    }

    @Test
    void create_attach_shareBytes_andOwnerCloseUnlinks() {
        String name = uniqueName();
        try (SharedMemory owner = SharedMemory.create(name, 1024)) {
            assertThat(owner.isOwner()).isTrue();
            assertThat(owner.size()).isEqualTo(1024);
            assertThat(file(name)).exists();
            try (SharedMemory other = SharedMemory.attach(name)) {
                assertThat(other.isOwner()).isFalse();
                assertThat(other.size()).isEqualTo(1024);
                owner.asSegment().set(ValueLayout.JAVA_LONG, 8, 42L);
                assertThat(other.asSegment().get(ValueLayout.JAVA_LONG, 8)).isEqualTo(42L);
            }
            assertThat(file(name)).as("closing an attached mapping leaves the segment").exists();
        }
        assertThat(file(name)).as("the owner's close removes the name").doesNotExist();
    }

    @Test
    void create_generatesDistinctNames_andStartsZeroFilled() {
        try (SharedMemory a = SharedMemory.create(4096); SharedMemory b = SharedMemory.create(4096)) {
            assertThat(a.name()).isNotEqualTo(b.name());
            assertThat(a.asSegment().toArray(ValueLayout.JAVA_BYTE)).containsOnly((byte) 0);
        }
    }

    @Test
    void create_duplicateName_failsNamingIt() {
        String name = uniqueName();
        try (SharedMemory first = SharedMemory.create(name, 64)) {
            assertThatThrownBy(() -> SharedMemory.create(name, 64))
                    .isInstanceOf(SharedMemoryException.class)
                    .hasMessageContaining(name).hasMessageContaining("already exists").hasMessageContaining("attach");
            assertThat(first.asSegment().byteSize()).isEqualTo(64);
        }
    }

    @Test
    void attach_missingName_failsNamingIt() {
        String name = uniqueName();
        assertThatThrownBy(() -> SharedMemory.attach(name))
                .isInstanceOf(SharedMemoryException.class)
                .hasMessageContaining(name).hasMessageContaining("does not exist");
    }

    @Test
    void create_badSizeOrName_isIllegalArgument() {
        assertThatThrownBy(() -> SharedMemory.create(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("> 0");
        assertThatThrownBy(() -> SharedMemory.create(uniqueName(), -5)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-5");
        assertThatThrownBy(() -> SharedMemory.create("../etc/passwd", 64)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bad shared memory name");
    }

    @Test
    void unlink_twice_failsAndAttachAfterUnlinkFails() {
        String name = uniqueName();
        try (SharedMemory memory = SharedMemory.create(name, 64)) {
            memory.unlink();
            assertThat(file(name)).doesNotExist();
            memory.asSegment().set(ValueLayout.JAVA_INT, 0, 7); // the mapping outlives the name
            assertThat(memory.asSegment().get(ValueLayout.JAVA_INT, 0)).isEqualTo(7);
            assertThatThrownBy(memory::unlink).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("already unlinked");
            assertThatThrownBy(() -> SharedMemory.attach(name)).isInstanceOf(SharedMemoryException.class);
        }
    }

    @Test
    void useAfterClose_failsClearly_andCloseIsIdempotent() {
        SharedMemory memory = SharedMemory.create(64);
        SharedLong view = SharedLong.at(memory, 8);
        memory.close();
        memory.close();
        assertThatThrownBy(memory::asSegment).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(memory.name()).hasMessageContaining("closed");
        assertThatThrownBy(view::get).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");

        SharedLong value = SharedLong.create(3);
        value.close();
        assertThatThrownBy(value::incrementAndGet).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
    }

    @Test
    void typedViews_atomicOperations() {
        try (SharedLong l = SharedLong.create(10); SharedInt i = SharedInt.create(1); SharedDouble d = SharedDouble.create(0.5)) {
            assertThat(l.incrementAndGet()).isEqualTo(11);
            assertThat(l.getAndAdd(5)).isEqualTo(11);
            assertThat(l.compareAndSet(16, 100)).isTrue();
            assertThat(l.compareAndSet(16, 200)).isFalse();
            assertThat(l.getAndUpdate(x -> x * 2)).isEqualTo(100);
            assertThat(l.updateAndGet(x -> x + 1)).isEqualTo(201);
            assertThat(l.decrementAndGet()).isEqualTo(200);
            assertThat(i.addAndGet(41)).isEqualTo(42);
            assertThat(i.getAndSet(7)).isEqualTo(42);
            assertThat(d.addAndGet(0.25)).isEqualTo(0.75);
            assertThat(d.getAndUpdate(x -> x * 4)).isEqualTo(0.75);
            assertThat(d.get()).isEqualTo(3.0);
            assertThat(l.isAtomic()).isTrue();
        }
        try (SharedLongArray a = SharedLongArray.create(4); SharedIntArray b = SharedIntArray.create(3);
             SharedDoubleArray c = SharedDoubleArray.create(2)) {
            a.set(3, 9);
            assertThat(a.incrementAndGet(3)).isEqualTo(10);
            assertThat(a.toArray()).containsExactly(0, 0, 0, 10);
            assertThat(b.getAndAdd(2, 5)).isZero();
            assertThat(b.getAndUpdate(2, x -> x - 1)).isEqualTo(5);
            assertThat(b.get(2)).isEqualTo(4);
            assertThat(c.addAndGet(1, 1.5)).isEqualTo(1.5);
            assertThat(c.compareAndSet(1, 1.5, 2.5)).isTrue();
            assertThat(c.toArray()).containsExactly(0.0, 2.5);
            assertThatThrownBy(() -> a.get(4)).isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("4");
            assertThatThrownBy(() -> SharedLongArray.create(0)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void viewsOverOneSegment_seeEachOther_andRespectBounds() {
        try (SharedMemory memory = SharedMemory.create(64)) {
            SharedLongArray longs = SharedLongArray.at(memory, 0, 8);
            SharedLong third = SharedLong.at(memory, 16);
            longs.set(2, 77);
            assertThat(third.get()).isEqualTo(77);
            SharedBytes bytes = SharedBytes.at(memory, 32, 32);
            bytes.write(0, new byte[] {1, 2, 3});
            assertThat(longs.get(4)).isEqualTo(0x030201L);
            assertThatThrownBy(() -> SharedLong.at(memory, 60)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> SharedLong.at(memory, 4)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("multiple of 8");
        }
    }

    @Test
    void namedValue_attachedByName_sharesTheValue() {
        String name = uniqueName();
        try (SharedLong created = SharedLong.create(name, 5); SharedLong attached = SharedLong.attach(name)) {
            attached.addAndGet(10);
            assertThat(created.get()).isEqualTo(15);
        }
        assertThat(file(name)).doesNotExist();
    }

    @Test
    void serializedHandle_mapsTheSameMemory() throws Exception {
        try (SharedLongArray array = SharedLongArray.create(16)) {
            SharedLongArray copy = roundTrip(array);
            copy.set(5, 123);
            assertThat(array.get(5)).isEqualTo(123);
            assertThat(copy.length()).isEqualTo(16);
            copy.close(); // a borrowed handle: the segment stays
            assertThat(array.get(5)).isEqualTo(123);
        }
    }

    @Test
    void unsynchronizedVariant_behavesLikeAPlainField_singleThreaded() {
        try (SharedLong plain = SharedLong.createUnsynchronized(0)) {
            assertThat(plain.isAtomic()).isFalse();
            for (int i = 0; i < 1000; i++) {
                plain.incrementAndGet();
            }
            assertThat(plain.get()).isEqualTo(1000);
        }
    }

    @Test
    void files_ofOurPrefixOnly_areTouched() throws Exception {
        Path foreign = Files.createTempFile(Path.of("/dev/shm"), "not-ours-", ".tmp");
        try {
            SharedMemory.removeLeftovers();
            assertThat(foreign).exists();
        } finally {
            Files.deleteIfExists(foreign);
        }
    }

    @SuppressWarnings("unchecked")
    static <T> T roundTrip(T value) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(value);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return (T) in.readObject();
        }
    }
}
