package dev.claudecage.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.claudecage.host.Directories;
import dev.claudecage.json.Json;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * Debian's headless Chromium, driven over the DevTools protocol (a WebSocket from java.net.http):
 * open a page, evaluate JavaScript, take a screenshot. Started with a fresh profile in a temporary
 * folder and no background networking; {@link #close()} kills it with all its children and removes
 * the profile. Every wait is bounded.
 */
public final class HeadlessChromium implements AutoCloseable {

    public static final Path BINARY = Path.of("/usr/bin/chromium");
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);

    private final Process process;
    private final Path profile;
    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();

    private HeadlessChromium(Process process, Path profile, WebSocket socket) {
        this.process = process;
        this.profile = profile;
        this.socket = socket;
    }

    public static boolean installed() {
        return Files.isExecutable(BINARY);
    }

    /** Starts Chromium with a window of {@code width} x {@code height} and connects to it. */
    public static HeadlessChromium launch(int width, int height) throws IOException, InterruptedException {
        Path profile = Files.createTempDirectory("claude-cage-chromium-");
        Process process = null;
        try {
            process = new ProcessBuilder(List.of(BINARY.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                    "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--user-data-dir=" + profile, "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
                    "--window-size=" + width + "," + height, "about:blank"))
                    .redirectErrorStream(true)
                    .redirectOutput(profile.resolveSibling(profile.getFileName() + ".log").toFile())
                    .start();
            String browserPath = awaitDevToolsPort(process, profile);
            HeadlessChromium[] self = new HeadlessChromium[1];
            WebSocket socket = HttpClient.newHttpClient().newWebSocketBuilder()
                    .connectTimeout(Duration.ofSeconds(10))
                    .buildAsync(URI.create(browserPath), new Listener(message -> self[0].dispatch(message)))
                    .get(20, TimeUnit.SECONDS);
            self[0] = new HeadlessChromium(process, profile, socket);
            return self[0];
        } catch (Exception e) {
            kill(process);
            Path log = profile.resolveSibling(profile.getFileName() + ".log");
            String output = Files.exists(log) ? Files.readString(log) : "";
            Directories.deleteRecursively(profile);
            Files.deleteIfExists(log);
            throw new IOException("cannot start headless Chromium: " + e + "\n--- its output\n" + output, e);
        }
    }

    /** Chromium writes its DevTools port and the browser's path into the profile once it listens. */
    private static String awaitDevToolsPort(Process process, Path profile) throws IOException, InterruptedException {
        Path file = profile.resolve("DevToolsActivePort");
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("chromium exited with " + process.exitValue());
            }
            if (Files.exists(file)) {
                List<String> lines = Files.readAllLines(file);
                if (lines.size() >= 2) {
                    return "ws://127.0.0.1:" + lines.get(0).strip() + lines.get(1).strip();
                }
            }
            Thread.sleep(50);
        }
        throw new IOException("chromium did not write " + file + " within 30s");
    }

    /** A new tab showing {@code url}. */
    public Page open(String url) throws Exception {
        return open(url, "");
    }

    /**
     * A new tab showing {@code url}, with {@code beforeLoad} run in it before any script of the page
     * (DevTools runs it whatever the page's Content-Security-Policy says).
     */
    public Page open(String url, String beforeLoad) throws Exception {
        String targetId = send(null, "Target.createTarget", Map.of("url", "about:blank")).path("targetId").asText();
        String session = send(null, "Target.attachToTarget", Map.of("targetId", targetId, "flatten", true))
                .path("sessionId").asText();
        Page page = new Page(session);
        send(session, "Page.enable", Map.of());
        if (!beforeLoad.isEmpty()) {
            send(session, "Page.addScriptToEvaluateOnNewDocument", Map.of("source", beforeLoad));
        }
        send(session, "Page.navigate", Map.of("url", url));
        return page;
    }

    /** One tab, attached with its own DevTools session. */
    public final class Page {
        private final String session;

        private Page(String session) {
            this.session = session;
        }

        /** The value of a JavaScript expression (JSON-serialisable), awaiting a promise. */
        public JsonNode evaluate(String expression) throws Exception {
            JsonNode result = send(session, "Runtime.evaluate",
                    Map.of("expression", expression, "returnByValue", true, "awaitPromise", true));
            if (result.has("exceptionDetails")) {
                throw new IllegalStateException("JavaScript failed: " + result.path("exceptionDetails"));
            }
            return result.path("result").path("value");
        }

        /** Evaluates {@code expression} until {@code done} holds for its value; the last value either way. */
        public JsonNode await(String expression, Predicate<JsonNode> done, Duration timeout) throws Exception {
            long deadline = System.nanoTime() + timeout.toNanos();
            JsonNode value = evaluate(expression);
            while (!done.test(value) && System.nanoTime() < deadline) {
                Thread.sleep(250);
                value = evaluate(expression);
            }
            return value;
        }

        /** The tab as a PNG. */
        public byte[] screenshot() throws Exception {
            String data = send(session, "Page.captureScreenshot", Map.of("format", "png")).path("data").asText();
            return Base64.getDecoder().decode(data);
        }
    }

    private JsonNode send(String session, String method, Map<String, Object> params) throws Exception {
        int id = ids.incrementAndGet();
        ObjectNode message = Json.mapper().createObjectNode();
        message.put("id", id);
        message.put("method", method);
        message.set("params", Json.mapper().valueToTree(params));
        if (session != null) {
            message.put("sessionId", session);
        }
        CompletableFuture<JsonNode> reply = new CompletableFuture<>();
        pending.put(id, reply);
        try {
            socket.sendText(Json.mapper().writeValueAsString(message), true).get(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            JsonNode answer = reply.get(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            if (answer.has("error")) {
                throw new IllegalStateException(method + " failed: " + answer.path("error"));
            }
            return answer.path("result");
        } finally {
            pending.remove(id);
        }
    }

    private void dispatch(String text) {
        try {
            JsonNode message = Json.mapper().readTree(text);
            if (message.has("id")) {
                CompletableFuture<JsonNode> reply = pending.get(message.path("id").asInt());
                if (reply != null) {
                    reply.complete(message);
                }
            }
        } catch (IOException e) {
            // Not JSON: not a reply to anything we sent.
        }
    }

    /** Gathers text frames (a screenshot arrives in many) into whole messages. */
    private static final class Listener implements WebSocket.Listener {
        private final java.util.function.Consumer<String> sink;
        private final StringBuilder partial = new StringBuilder();

        Listener(java.util.function.Consumer<String> sink) {
            this.sink = sink;
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                String message = partial.toString();
                partial.setLength(0);
                sink.accept(message);
            }
            webSocket.request(1);
            return null;
        }
    }

    @Override
    public void close() throws IOException {
        try {
            socket.abort();
        } finally {
            kill(process);
            Directories.deleteRecursively(profile);
            Files.deleteIfExists(profile.resolveSibling(profile.getFileName() + ".log"));
        }
    }

    /** Chromium and every process it started (zygote, renderers, GPU and network services). */
    private static void kill(Process process) {
        if (process == null) {
            return;
        }
        List<ProcessHandle> all = new java.util.ArrayList<>(process.descendants().toList());
        all.add(process.toHandle());
        all.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        for (ProcessHandle handle : all) {
            while (handle.isAlive() && System.nanoTime() < deadline) {
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            if (handle.isAlive()) {
                handle.destroyForcibly();
            }
        }
    }
}
