package io.multiproc4j.ipc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.multiproc4j.internal.ipc.Attachments;
import io.multiproc4j.internal.shm.Segment;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link Pipe} and {@link Connection} within one JVM (threads). Cross-process behaviour: {@link IpcProcessTest}. */
@Timeout(60)
class PipeTest {

    @Test
    void duplex_echoesObjectsAndBytes_bothWays() {
        try (Pipe<Object> pipe = Pipe.duplex()) {
            pipe.left().send(Map.of("k", List.of(1, 2)));
            assertThat(pipe.right().receive()).isEqualTo(Map.of("k", List.of(1, 2)));
            pipe.right().send("back");
            assertThat(pipe.left().receive()).isEqualTo("back");
            pipe.right().sendBytes(new byte[] {9, 8, 7}, 1, 2);
            assertThat(pipe.left().receiveBytes()).containsExactly(8, 7);
            pipe.left().sendBytes(new byte[] {5});
            assertThat((byte[]) pipe.right().receive()).containsExactly(5);
        }
    }

    @Test
    void messageBoundaries_areKept() {
        try (Pipe<String> pipe = Pipe.oneWay()) {
            pipe.right().send("a");
            pipe.right().send("bb");
            pipe.right().send("");
            assertThat(List.of(pipe.left().receive(), pipe.left().receive(), pipe.left().receive()))
                    .containsExactly("a", "bb", "");
            assertThat(pipe.left().poll()).isFalse();
        }
    }

    @Test
    void receiveBytesInto_withAndWithoutOffset() {
        try (Pipe<Object> pipe = Pipe.duplex()) {
            byte[] buffer = new byte[8];
            pipe.left().sendBytes(new byte[] {1, 2, 3});
            assertThat(pipe.right().receiveBytesInto(buffer)).isEqualTo(3);
            assertThat(buffer).startsWith(1, 2, 3);
            pipe.left().sendBytes(new byte[] {4, 5});
            assertThat(pipe.right().receiveBytesInto(buffer, 6)).isEqualTo(2);
            assertThat(buffer).containsExactly(1, 2, 3, 0, 0, 0, 4, 5);
            pipe.left().sendBytes(new byte[] {6, 7, 8});
            assertThatThrownBy(() -> pipe.right().receiveBytesInto(buffer, 6))
                    .isInstanceOfSatisfying(BufferTooShortException.class,
                            e -> assertThat(e.message()).containsExactly(6, 7, 8))
                    .hasMessageContaining("3 bytes").hasMessageContaining("room for 2");
            assertThat(buffer).containsExactly(1, 2, 3, 0, 0, 0, 4, 5);
            assertThatThrownBy(() -> pipe.right().receiveBytesInto(buffer, 9))
                    .isInstanceOf(IndexOutOfBoundsException.class);
        }
    }

    @Test
    void poll_waitsAboutItsTimeout_thenSeesAMessage() {
        try (Pipe<String> pipe = Pipe.duplex()) {
            long t0 = System.nanoTime();
            assertThat(pipe.left().poll(Duration.ofMillis(300))).isFalse();
            assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(290));
            assertThat(pipe.left().poll()).isFalse();
            pipe.right().send("x");
            assertThat(pipe.left().poll(Duration.ofSeconds(10))).isTrue();
            assertThat(pipe.left().poll()).isTrue();
            assertThat(pipe.left().receive()).isEqualTo("x");
        }
    }

    @Test
    void receiveAfterPeerClosed_getsWhatWasSent_thenEof() {
        try (Pipe<String> pipe = Pipe.duplex()) {
            pipe.right().send("last words");
            pipe.right().close();
            assertThat(pipe.left().poll()).isTrue();
            assertThat(pipe.left().receive()).isEqualTo("last words");
            assertThat(pipe.left().poll()).as("EOF is readable: receive would not block").isTrue();
            assertThatThrownBy(() -> pipe.left().receive()).isInstanceOf(ConnectionClosedException.class)
                    .hasCauseInstanceOf(EOFException.class).hasMessageContaining("other end was closed");
            assertThatThrownBy(() -> pipe.left().send("anyone?")).isInstanceOf(ConnectionClosedException.class)
                    .hasMessageContaining("nobody will receive");
            assertThatThrownBy(() -> pipe.right().send("x")).isInstanceOf(ConnectionClosedException.class)
                    .hasMessageContaining("this end is closed");
        }
    }

    @Test
    void blockedReceive_wakesWithEof_whenPeerCloses() throws Exception {
        try (Pipe<String> pipe = Pipe.oneWay()) {
            CompletableFuture<String> receiver = CompletableFuture.supplyAsync(() -> pipe.left().receive());
            assertThatThrownBy(() -> receiver.get(100, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
            pipe.right().close();
            assertThatThrownBy(() -> receiver.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(ConnectionClosedException.class);
        }
    }

    @Test
    void oneWay_wrongDirection_failsClearly() {
        try (Pipe<String> pipe = Pipe.oneWay()) {
            assertThat(pipe.left().canSend()).isFalse();
            assertThat(pipe.left().canReceive()).isTrue();
            assertThat(pipe.right().canSend()).isTrue();
            assertThat(pipe.right().canReceive()).isFalse();
            assertThatThrownBy(() -> pipe.left().send("x")).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("receiving end of a one-way pipe").hasMessageContaining("pipe.right()");
            assertThatThrownBy(() -> pipe.right().receive()).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("sending end of a one-way pipe");
            assertThatThrownBy(() -> pipe.right().poll()).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void unserializableSend_isRefused_andPipeKeepsWorking() {
        try (Pipe<Object> pipe = Pipe.duplex()) {
            assertThatThrownBy(() -> pipe.left().send(new Object())).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("java.lang.Object").hasMessageContaining("nothing was sent");
            pipe.left().send("fine");
            assertThat(pipe.right().receive()).isEqualTo("fine");
        }
    }

    /** Python's trap: what fits in a duplex pipe must fit in a one-way pipe, and block at the same point. */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void duplexAndOneWay_bufferTheSame(boolean duplex) throws Exception {
        Supplier<Pipe<Object>> factory = () -> duplex ? Pipe.duplex(4096) : Pipe.oneWay(4096);
        try (Pipe<Object> pipe = factory.get()) {
            Connection<Object> sender = pipe.right();
            Connection<Object> receiver = pipe.left();
            byte[] chunk = new byte[1016]; // a 1024-byte record: four fill the 4 KiB ring
            for (int i = 0; i < 4; i++) {
                sender.sendBytes(chunk);
            }
            CompletableFuture<Void> fifth = CompletableFuture.runAsync(() -> sender.sendBytes(chunk));
            assertThatThrownBy(() -> fifth.get(200, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
            assertThat(receiver.receiveBytes()).hasSize(1016);
            fifth.get(10, TimeUnit.SECONDS);
            // Larger than a quarter of the ring: goes through a spill file, never blocks on ring room.
            byte[] big = new byte[100_000];
            big[99_999] = 42;
            CompletableFuture<Void> bigSend = CompletableFuture.runAsync(() -> sender.sendBytes(big));
            for (int i = 0; i < 4; i++) {
                assertThat(receiver.receiveBytes()).hasSize(1016);
            }
            bigSend.get(10, TimeUnit.SECONDS);
            assertThat(receiver.receiveBytes()).isEqualTo(big);
        }
    }

    @Test
    void sixteenMebibyteMessage_roundTrips() {
        try (Pipe<Object> pipe = Pipe.duplex()) {
            byte[] big = new byte[16 << 20];
            for (int i = 0; i < big.length; i += 4093) {
                big[i] = (byte) (i * 31);
            }
            pipe.left().sendBytes(big);
            pipe.left().send(big);
            assertThat(pipe.right().receiveBytes()).isEqualTo(big);
            assertThat((byte[]) pipe.right().receive()).isEqualTo(big);
        }
    }

    @Test
    void closingBothEnds_removesTheSharedMemory() {
        Pipe<String> pipe = Pipe.duplex();
        String name = pipe.name();
        assertThat(Segment.pathOf(name)).exists();
        pipe.left().close();
        assertThat(Segment.pathOf(name)).exists();
        pipe.right().close();
        assertThat(Segment.pathOf(name)).doesNotExist();
        assertThatThrownBy(() -> pipe.left().send("x")).isInstanceOf(ConnectionClosedException.class);
    }

    @Test
    void badBufferSize_isRefused() {
        assertThatThrownBy(() -> Pipe.duplex(1000)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("power of two");
    }

    /** A long-lived worker receives many short-lived pipes: their mappings must not pile up. */
    @Test
    void deserializedEnds_releaseTheirMapping_onceUnreachable() throws Exception {
        int before = Attachments.cached();
        List<Pipe<String>> pipes = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 20; i++) {
                Pipe<String> pipe = Pipe.duplex(4096);
                pipes.add(pipe);
                Connection<String> copy = roundTrip(pipe.right());
                copy.send("via copy " + i);
                assertThat(pipe.left().receive()).isEqualTo("via copy " + i);
            }
            assertThat(Attachments.cached()).isGreaterThanOrEqualTo(before + 20);
            Conditions.await("mappings of unreachable ends released", Duration.ofSeconds(20), () -> {
                System.gc();
                return Attachments.cached() <= before;
            });
        } finally {
            pipes.forEach(Pipe::close);
        }
    }

    @SuppressWarnings("unchecked")
    private static <T> T roundTrip(T handle) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(handle);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return (T) in.readObject();
        }
    }

    @Test
    void end_serializesAndReattaches() throws Exception {
        try (Pipe<String> pipe = Pipe.duplex()) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
                out.writeObject(pipe.right());
            }
            @SuppressWarnings("unchecked")
            Connection<String> copy = (Connection<String>) new ObjectInputStream(
                    new ByteArrayInputStream(bytes.toByteArray())).readObject();
            copy.send("via copy");
            assertThat(pipe.left().receive()).isEqualTo("via copy");
            assertThat(copy.toString()).isEqualTo(pipe.right().toString());
        }
    }
}
