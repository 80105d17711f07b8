package dev.claudecage.image.registry;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A registry in this JVM, on loopback and a free port, answering each path with a canned response,
 * and remembering every request (method, path and query, Authorization header) in order.
 */
public final class FakeRegistry implements AutoCloseable {

    /** One canned answer. */
    public record Answer(int status, Map<String, String> headers, byte[] body) {
        public static Answer of(int status, String body, String... headerPairs) {
            Map<String, String> headers = new java.util.LinkedHashMap<>();
            for (int i = 0; i < headerPairs.length; i += 2) {
                headers.put(headerPairs[i], headerPairs[i + 1]);
            }
            return new Answer(status, headers, body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    /** What was asked. */
    public record Request(String method, String pathAndQuery, String authorization) {
    }

    /** Decides the answer for a request. */
    public interface Route {
        Answer answer(Request request);
    }

    private final HttpServer server;
    private final Map<String, Route> routes = new ConcurrentHashMap<>();
    private final List<Request> requests = new CopyOnWriteArrayList<>();

    public FakeRegistry() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    /** The registry's host:port, as a reference names it. */
    public String hostPort() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    /** Answers requests for {@code path} (the query left out). */
    public FakeRegistry route(String path, Route route) {
        routes.put(path, route);
        return this;
    }

    public FakeRegistry route(String path, Answer answer) {
        return route(path, request -> answer);
    }

    public List<Request> requests() {
        return List.copyOf(requests);
    }

    private void handle(HttpExchange exchange) throws IOException {
        String query = exchange.getRequestURI().getRawQuery();
        Request request = new Request(exchange.getRequestMethod(), exchange.getRequestURI().getRawPath()
                + (query == null ? "" : "?" + query), exchange.getRequestHeaders().getFirst("Authorization"));
        requests.add(request);
        Route route = routes.get(exchange.getRequestURI().getPath());
        Answer answer = route == null ? Answer.of(404, "{\"errors\":[{\"code\":\"NOT_FOUND\",\"message\":\"no route\"}]}")
                : route.answer(request);
        answer.headers().forEach((name, value) -> exchange.getResponseHeaders().add(name, value));
        exchange.sendResponseHeaders(answer.status(), answer.body().length == 0 ? -1 : answer.body().length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(answer.body());
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
