package io.multiproc4j.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.multiproc4j.Pool;
import io.multiproc4j.ProcessPoolExecutor;
import io.multiproc4j.TaskExecutor;
import io.reactivex.rxjava3.core.Flowable;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.reactivestreams.FlowAdapters;
import reactor.adapter.JdkFlowAdapter;
import reactor.core.publisher.Flux;

/**
 * The usage examples of {@link TaskExecutor} and {@link Pool#publish}, compiled and run: futures
 * compose with {@link HttpClient#sendAsync}, virtual threads, Reactor and RxJava without adapters of ours.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Deadline(seconds = 60)
class AsyncCompositionExamplesTest {
    private TaskExecutor executor;
    private HttpServer server;

    @BeforeAll
    void start() throws Exception {
        executor = ProcessPoolExecutor.create(2);
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/numbers", exchange -> {
            byte[] body = "3,4,5".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
    }

    @AfterAll
    void stop() {
        executor.close();
        server.stop(0);
    }

    static int sumOfSquares(String csv) {
        int sum = 0;
        for (String part : csv.split(",")) {
            int n = Integer.parseInt(part.trim());
            sum += n * n;
        }
        return sum;
    }

    @Test
    void httpClientSendAsync_composesWithAProcessTask() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/numbers")).build();
        // @start region="http"
        CompletableFuture<Integer> answer = http.sendAsync(request, HttpResponse.BodyHandlers.ofString())
                .thenApply(HttpResponse::body)
                .thenCompose(body -> executor.submit(() -> sumOfSquares(body)));   // parsed in a worker JVM
        // @end
        assertThat(answer.get(30, TimeUnit.SECONDS)).isEqualTo(50);
    }

    @Test
    void virtualThreads_blockOnProcessFutures_cheaply() throws Exception {
        // @start region="virtual"
        try (var virtual = Executors.newVirtualThreadPerTaskExecutor()) {
            List<CompletableFuture<Integer>> replies = IntStream.range(0, 100)
                    .mapToObj(i -> CompletableFuture.supplyAsync(
                            () -> executor.submit(() -> i * i).join(), virtual))   // a blocking wait is fine here
                    .toList();
            int total = replies.stream().mapToInt(CompletableFuture::join).sum();
            assertThat(total).isEqualTo(IntStream.range(0, 100).map(i -> i * i).sum());
        }
        // @end
    }

    @Test
    void reactorFlux_takesThePublisherAsIs() {
        try (Pool pool = Pool.threads(2)) {
            // @start region="reactor"
            Flux<Integer> doubled = JdkFlowAdapter.flowPublisherToFlux(pool.publish((Integer x) -> x * 2, List.of(1, 2, 3)));
            // @end
            assertThat(doubled.collectList().block()).containsExactly(2, 4, 6);
        }
    }

    @Test
    void rxJavaFlowable_takesThePublisherThroughFlowAdapters_withBackPressure() {
        // @start region="rxjava"
        Flowable<Integer> squares = Flowable.fromPublisher(
                FlowAdapters.toPublisher(executor.publish((Integer x) -> x * x, IntStream.range(0, 1_000_000).boxed()::iterator)));
        List<Integer> firstFive = squares.take(5).toList().blockingGet();   // reads only what take(5) asks for
        // @end
        assertThat(firstFive).containsExactly(0, 1, 4, 9, 16);
    }
}
