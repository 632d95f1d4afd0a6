package io.multiproc4j.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** The handler {@code multiproc serve} runs in ServeCommandTest: answers with its worker's pid. */
public final class ServeTestHandler implements HttpHandler {
    @Override
    public void handle(HttpExchange exchange) throws IOException {
        String pid = Long.toString(ProcessHandle.current().pid());
        byte[] body = ("served by " + pid + "\n").getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("X-Worker-Pid", pid);
        exchange.sendResponseHeaders(200, body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
    }
}
