package io.multiproc4j.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.multiproc4j.internal.codec.StandardCodec;
import io.multiproc4j.internal.transport.FrameChannel.Frame;
import io.multiproc4j.spi.Codec;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.StreamCorruptedException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A RESULTS frame as the pool reads it: its results are a view of the frame, decoded in place. */
class ResultsFrameTest {
    private final Codec codec = Codec.standard();

    private static Frame frameOf(WorkerMessage message) throws Exception {
        var bytes = new ByteArrayOutputStream();
        var out = new DataOutputStream(bytes);
        message.writeBody(out);
        out.flush();
        assertThat((long) bytes.size()).isEqualTo(message.length());
        return new Frame(message.type().ordinal(), bytes.toByteArray());
    }

    @Test
    void receivedResults_areAViewOfTheFrame_thatDecodesAsTheWorkerEncodedThem() throws Exception {
        List<Object> sent = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            sent.add(i * 7919 - 3_000_000);
        }
        byte[] encoded = codec.encode(sent);
        Frame frame = frameOf(new WorkerMessage.Results(42, 17, encoded));
        var received = (WorkerMessage.Results) WorkerMessage.decode(frame);
        assertThat(received.batchId()).isEqualTo(42);
        assertThat(received.offset()).isEqualTo(17);
        assertThat(received.bytes()).isSameAs(frame.payload());
        assertThat(received.results()).isEqualTo(encoded);
        assertThat(StandardCodec.decodeResults(codec, received.bytes(), received.at(), received.size()))
                .isEqualTo(sent);
        // a received message writes the same frame again
        assertThat(frameOf(received).payload()).isEqualTo(frame.payload());
    }

    @Test
    void resultsThatAreNotPacked_decodeFromTheirOwnBytes() throws Exception {
        List<Object> sent = List.of("a", 2L, 3.5);
        var received = (WorkerMessage.Results) WorkerMessage.decode(frameOf(new WorkerMessage.Results(1, 0, codec.encode(sent))));
        assertThat(StandardCodec.decodeResults(codec, received.bytes(), received.at(), received.size())).isEqualTo(sent);
    }

    @Test
    void aFrameThatAnnouncesMoreResultsThanItHolds_isRefused() throws Exception {
        byte[] payload = frameOf(new WorkerMessage.Results(1, 0, new byte[10])).payload();
        payload[15] = 11; // the length field's low byte: one more than the frame holds
        assertThatThrownBy(() -> WorkerMessage.decode(new Frame(FrameType.RESULTS.ordinal(), payload)))
                .isInstanceOf(StreamCorruptedException.class).hasMessageContaining("announces 11 bytes");
    }
}
