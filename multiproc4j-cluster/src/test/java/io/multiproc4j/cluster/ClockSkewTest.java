package io.multiproc4j.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.security.SecureRandom;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A member whose clock is far from the client's judges the client's first attempts outside its
 * replay window (STALE); the client learns the member's time from that reply and sends the chunks
 * again, re-signed, without spending a retry: the map completes, correct and in order.
 */
@Timeout(300)
class ClockSkewTest {
    @Test
    void aMemberTwentyMinutesAhead_answersStaleFirst_andTheClientCatchesUp() throws Exception {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        String name = "clock-skew-" + ProcessHandle.current().pid() + "-" + port;
        ClusterWorker worker = ClusterWorker.start(List.of(), name, key, "127.0.0.1", port, 2, false);
        try {
            worker.runtime.clock(() -> System.currentTimeMillis() + 20 * 60_000L);
            List<Integer> inputs = IntStream.range(0, 400).boxed().toList();
            try (ClusterPool pool = ClusterPool.connect(ClusterConfig.members("127.0.0.1:" + port).clusterName(name)
                    .authKey(key))) {
                assertThat(pool.map((Integer x) -> x * 3, inputs, 10)).isEqualTo(inputs.stream().map(x -> x * 3).toList());
            }
            assertThat(worker.runtime.chunksStale()).as("first attempts judged stale").isPositive();
            assertThat(worker.runtime.chunksStale()).as("then the client stamps in the member's time")
                    .isLessThan(40);
            assertThat(worker.runtime.chunksRefused()).isZero();
        } finally {
            worker.close();
        }
    }

}
