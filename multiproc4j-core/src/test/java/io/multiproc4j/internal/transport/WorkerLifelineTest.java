package io.multiproc4j.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.multiproc4j.SerializableFunction;
import io.multiproc4j.internal.codec.StandardCodec;
import io.multiproc4j.internal.supervise.JvmCommand;
import io.multiproc4j.internal.supervise.WorkerProcess;
import io.multiproc4j.internal.worker.WorkerMain;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real worker JVM driven by hand over a real socket, the parent's side played by the test: the
 * worker's lifeline keeps reading while its main thread is blocked writing a large RESULTS frame.
 */
@Timeout(300)
class WorkerLifelineTest {
    private static final int BIG = 16 << 20; // far more than the socket buffers hold

    @TempDir
    Path dir;

    @Test
    void aWorkerBlockedWritingALargeResult_stillReadsEverything_andAnswersRecall() throws Exception {
        var codec = new StandardCodec();
        Path socketPath = dir.resolve("w.sock");
        Process worker = null;
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socketPath));
            var builder = new ProcessBuilder(JvmCommand.forMain(List.of(), WorkerMain.class.getName(), null));
            builder.environment().put(WorkerProcess.ENV_SOCKET, socketPath.toString());
            builder.environment().put(WorkerProcess.ENV_KEY, "ab".repeat(WorkerLayout.KEY_BYTES));
            builder.redirectOutput(ProcessBuilder.Redirect.INHERIT).redirectError(ProcessBuilder.Redirect.INHERIT);
            worker = builder.start();
            CompletableFuture<SocketChannel> accepted = CompletableFuture.supplyAsync(() -> {
                try {
                    return server.accept();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            try (SocketChannel socket = accepted.get(120, TimeUnit.SECONDS)) {
                assertThat(Sockets.readFrame(socket).type()).isEqualTo(FrameType.HELLO);
                var out = new FrameChannel(socket); // written to only; reads go through Sockets, byte-exact
                new WorkerMessage.Setup(StandardCodec.class.getName(), "lifeline-test", false, 0, null).write(out);
                out.flush();
                assertThat(Sockets.readFrame(socket).type()).isEqualTo(FrameType.READY);

                SerializableFunction<Integer, byte[]> allocate = n -> new byte[n];
                SerializableFunction<Object, Integer> seven = x -> 7;
                new WorkerMessage.BatchMessage(1, 1, codec.encode(allocate), -1, codec.encode(list(BIG))).write(out);
                new WorkerMessage.BatchMessage(2, 1, null, -1, codec.encode(list(1))).write(out); // queued behind 1
                out.flush();

                // The header of batch 1's RESULTS: the main thread is now inside its write of 16 MB
                // (the channel's buffer is flushed ahead of a body that large), and stays there, the
                // channel held, until this side reads on.
                int[] header = Sockets.readHeader(socket);
                assertThat(FrameType.of(header[1])).isEqualTo(FrameType.RESULTS);

                // RECALL, then a frame larger than the socket buffers: written only if the worker reads.
                CompletableFuture<Void> written = CompletableFuture.runAsync(() -> {
                    try {
                        new WorkerMessage.Recall(2).write(out);
                        new WorkerMessage.BatchMessage(3, 2, codec.encode(seven), -1, codec.encode(list(new byte[BIG])))
                                .write(out);
                        out.flush();
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                written.get(120, TimeUnit.SECONDS); // the lifeline read both while the main thread was blocked

                var first = (WorkerMessage.Results) WorkerMessage.decode(Sockets.readPayload(socket, header));
                assertThat(first.batchId()).isEqualTo(1);
                assertThat(((byte[]) ((List<?>) codec.decode(first.results())).getFirst())).hasSize(BIG);
                Map<FrameType, WorkerMessage> rest = new HashMap<>();
                for (int i = 0; i < 2; i++) { // RECALLED (answer thread) and batch 3's RESULTS, in either order
                    WorkerMessage message = WorkerMessage.decode(Sockets.readFrame(socket));
                    rest.put(message.type(), message);
                }
                assertThat(rest.get(FrameType.RECALLED)).isEqualTo(new WorkerMessage.Recalled(2, true));
                var third = (WorkerMessage.Results) rest.get(FrameType.RESULTS);
                assertThat(third.batchId()).isEqualTo(3);
                assertThat(new ArrayList<Object>(StandardCodec.decodeResults(codec, third.results()))).containsExactly(7);
            }
            // EOF on its connection: the lifeline halts the worker
            assertThat(worker.waitFor(120, TimeUnit.SECONDS)).isTrue();
        } finally {
            if (worker != null) {
                worker.destroyForcibly();
                worker.waitFor(60, TimeUnit.SECONDS);
            }
        }
    }

    private static List<Object> list(Object element) {
        var list = new ArrayList<>();
        list.add(element);
        return list;
    }
}
