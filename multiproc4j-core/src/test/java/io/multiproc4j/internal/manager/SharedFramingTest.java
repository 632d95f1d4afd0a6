package io.multiproc4j.internal.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.multiproc4j.internal.transport.FrameChannel;
import io.multiproc4j.internal.transport.Sockets;
import java.io.StreamCorruptedException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pool's channel and the manager's put the same bytes on the wire and refuse the same hostile
 * lengths: one frame layout ({@code Framing}), two ways of waiting.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SharedFramingTest {
    @TempDir
    Path dir;

    @Test
    void framesWrittenByEitherChannelAreReadByTheOther() throws Exception {
        SocketChannel[] ends = Sockets.pair(dir.resolve("s"));
        try (FrameChannel pool = new FrameChannel(ends[0]); ManagerChannel manager = new ManagerChannel(ends[1])) {
            manager.limit(1 << 20);
            byte[] small = {1, 2, 3};
            byte[] large = new byte[200_000]; // over the manager's 64 KiB read buffer
            for (int i = 0; i < large.length; i++) {
                large[i] = (byte) (i * 31);
            }
            byte[] empty = {};

            pool.sendCode(ManagerLayout.CALL, small);
            pool.sendCode(ManagerLayout.REPLY, large);
            pool.sendCode(255, empty);
            ManagerChannel.Frame first = manager.receive();
            ManagerChannel.Frame second = manager.receive();
            ManagerChannel.Frame third = manager.receive();
            assertThat(first.type()).isEqualTo(ManagerLayout.CALL);
            assertThat(first.payload()).isEqualTo(small);
            assertThat(second.type()).isEqualTo(ManagerLayout.REPLY);
            assertThat(second.payload()).isEqualTo(large);
            assertThat(third.type() & 0xff).isEqualTo(255);
            assertThat(third.payload()).isEmpty();

            manager.send(ManagerLayout.WELCOME, large);
            manager.send(ManagerLayout.CANCEL, small);
            FrameChannel.Frame back = pool.receive();
            FrameChannel.Frame backSmall = pool.receive();
            assertThat(back.code()).isEqualTo(ManagerLayout.WELCOME);
            assertThat(back.payload()).isEqualTo(large);
            assertThat(backSmall.code()).isEqualTo(ManagerLayout.CANCEL);
            assertThat(backSmall.payload()).isEqualTo(small);
        }
    }

    @Test
    void bothChannelsRefuseAnEmptyFrameAndOneOverTheirLimitBeforeAllocatingIt() throws Exception {
        for (int hostileLength : new int[] {0, -5, Integer.MAX_VALUE}) {
            SocketChannel[] toManager = Sockets.pair(dir.resolve("m" + (hostileLength & 0xff)));
            try (SocketChannel raw = toManager[0]; ManagerChannel manager = new ManagerChannel(toManager[1])) {
                raw.write(ByteBuffer.allocate(5).putInt(hostileLength).put(ManagerLayout.CALL).flip());
                assertThatThrownBy(manager::receive).isInstanceOf(StreamCorruptedException.class)
                        .hasMessageContaining("frame");
            }
            SocketChannel[] toPool = Sockets.pair(dir.resolve("p" + (hostileLength & 0xff)));
            try (SocketChannel raw = toPool[0]; FrameChannel pool = new FrameChannel(toPool[1])) {
                raw.write(ByteBuffer.allocate(5).putInt(hostileLength).put((byte) 1).flip());
                assertThatThrownBy(pool::receive).isInstanceOf(StreamCorruptedException.class)
                        .hasMessageContaining("frame");
            }
        }
        // Before authentication the manager accepts tiny frames only; the pool's channel takes a limit per call.
        SocketChannel[] ends = Sockets.pair(dir.resolve("limit"));
        try (FrameChannel pool = new FrameChannel(ends[0]); ManagerChannel manager = new ManagerChannel(ends[1])) {
            pool.sendCode(ManagerLayout.RESPONSE, new byte[ManagerLayout.HANDSHAKE_LIMIT + 1]);
            assertThatThrownBy(manager::receive).isInstanceOf(StreamCorruptedException.class)
                    .hasMessageContaining("the limit is " + ManagerLayout.HANDSHAKE_LIMIT);
        }
    }
}
