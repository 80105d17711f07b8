package dev.claudecage.testing.mockapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MockAnthropicApiTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String KEY = "sk-ant-api03-mock-test-key";

    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private MockAnthropicApi api;

    @AfterEach
    void close() {
        if (api != null) {
            api.close();
        }
    }

    /** A request body as Claude Code sends it: tools, and the conversation so far with {@code assistantTurns} replies. */
    static String conversation(int assistantTurns, boolean stream, boolean tools) {
        StringBuilder messages = new StringBuilder("{\"role\":\"user\",\"content\":\"go\"}");
        for (int i = 0; i < assistantTurns; i++) {
            messages.append(",{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"toolu_").append(i)
                    .append("\",\"name\":\"Bash\",\"input\":{}}]}")
                    .append(",{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_").append(i)
                    .append("\",\"content\":\"ok\"}]}");
        }
        return "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":4096,\"stream\":" + stream + ",\"messages\":[" + messages + "]"
                + (tools ? ",\"tools\":[{\"name\":\"Bash\",\"input_schema\":{\"type\":\"object\"}}]" : "") + "}";
    }

    private HttpResponse<String> post(String path, String body) throws IOException, InterruptedException {
        return post(path, body, KEY);
    }

    private HttpResponse<String> post(String path, String body, String key) throws IOException, InterruptedException {
        return client.send(HttpRequest.newBuilder(api.baseUrl().resolve(path)).timeout(WAIT).header("x-api-key", key)
                .header("content-type", "application/json").header("anthropic-version", "2023-06-01")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode json(String text) throws IOException {
        return MAPPER.readTree(text);
    }

    /** Server-sent events as (name, data) pairs. */
    static List<Map.Entry<String, JsonNode>> events(String stream) throws IOException {
        List<Map.Entry<String, JsonNode>> events = new ArrayList<>();
        for (String block : stream.split("\n\n")) {
            String name = null;
            String data = null;
            for (String line : block.split("\n")) {
                if (line.startsWith("event: ")) {
                    name = line.substring(7);
                } else if (line.startsWith("data: ")) {
                    data = line.substring(6);
                }
            }
            if (name != null) {
                events.add(Map.entry(name, json(data)));
            }
        }
        return events;
    }

    @Test
    void playsTheScriptByThePositionInTheConversation() throws Exception {
        api = MockAnthropicApi.start(Script.of(Turn.bash("git status"), Turn.read("/etc/hostname"),
                Turn.write("/workspace/a.txt", "hello\n"), Turn.edit("/workspace/a.txt", "hello", "goodbye")));

        List<JsonNode> inputs = new ArrayList<>();
        List<String> tools = new ArrayList<>();
        for (int turn = 0; turn < 4; turn++) {
            HttpResponse<String> response = post("/v1/messages?beta=true", conversation(turn, false, true));
            assertEquals(200, response.statusCode(), response.body());
            JsonNode message = json(response.body());
            assertEquals("message", message.path("type").asText());
            assertEquals("assistant", message.path("role").asText());
            assertEquals("claude-sonnet-4-5", message.path("model").asText());
            assertEquals("tool_use", message.path("stop_reason").asText());
            JsonNode block = message.path("content").get(0);
            assertEquals("tool_use", block.path("type").asText());
            assertTrue(block.path("id").asText().startsWith("toolu_"), block.toString());
            tools.add(block.path("name").asText());
            inputs.add(block.path("input"));
        }
        assertEquals(List.of("Bash", "Read", "Write", "Edit"), tools);
        assertEquals(json("{\"command\":\"git status\"}"), inputs.get(0));
        assertEquals(json("{\"file_path\":\"/etc/hostname\"}"), inputs.get(1));
        assertEquals(json("{\"file_path\":\"/workspace/a.txt\",\"content\":\"hello\\n\"}"), inputs.get(2));
        assertEquals(json("{\"file_path\":\"/workspace/a.txt\",\"old_string\":\"hello\",\"new_string\":\"goodbye\"}"),
                inputs.get(3));

        JsonNode last = json(post("/v1/messages", conversation(4, false, true)).body());
        assertEquals("end_turn", last.path("stop_reason").asText());
        assertEquals(Script.DEFAULT_FINAL_TEXT, last.path("content").get(0).path("text").asText());
        // A retried request gets the same turn again.
        assertEquals("Read", json(post("/v1/messages", conversation(1, false, true)).body()).path("content").get(0)
                .path("name").asText());
        assertEquals(List.of("turn 0: tool_use Bash", "turn 1: tool_use Read", "turn 2: tool_use Write",
                "turn 3: tool_use Edit", "turn 4: text", "turn 1: tool_use Read"),
                api.requests().stream().map(RecordedRequest::reply).toList());
    }

    @Test
    void answersSideRequestsWithoutTouchingTheScript() throws Exception {
        api = MockAnthropicApi.start(Script.of(Turn.bash("id")));

        JsonNode side = json(post("/v1/messages", conversation(0, false, false)).body());
        JsonNode main = json(post("/v1/messages", conversation(0, false, true)).body());

        assertEquals(MockAnthropicApi.SIDE_REPLY, side.path("content").get(0).path("text").asText());
        assertEquals("Bash", main.path("content").get(0).path("name").asText());
    }

    @Test
    void streamsATextTurnAsTheRealEventSequence() throws Exception {
        String text = "Hello from the mock, long enough to need several deltas.";
        api = MockAnthropicApi.start(Script.of(Turn.text(text)));

        HttpResponse<String> response = post("/v1/messages", conversation(0, true, true));

        assertEquals(200, response.statusCode());
        assertTrue(response.headers().firstValue("content-type").orElseThrow().startsWith("text/event-stream"));
        List<Map.Entry<String, JsonNode>> events = events(response.body());
        List<String> names = events.stream().map(Map.Entry::getKey).toList();
        assertEquals("message_start", names.get(0));
        assertEquals(List.of("content_block_start", "ping"), names.subList(1, 3));
        assertEquals(List.of("content_block_stop", "message_delta", "message_stop"), names.subList(names.size() - 3, names.size()));
        assertTrue(names.subList(3, names.size() - 3).stream().allMatch("content_block_delta"::equals), names.toString());
        assertTrue(names.size() - 6 > 1, "several deltas");
        for (Map.Entry<String, JsonNode> event : events) {
            assertEquals(event.getKey(), event.getValue().path("type").asText(), "data.type names the event");
        }
        JsonNode start = events.get(0).getValue().path("message");
        assertEquals("assistant", start.path("role").asText());
        assertTrue(start.path("stop_reason").isNull());
        assertEquals("text", events.get(1).getValue().path("content_block").path("type").asText());
        StringBuilder streamed = new StringBuilder();
        events.stream().filter(event -> event.getKey().equals("content_block_delta")).forEach(event -> {
            assertEquals("text_delta", event.getValue().path("delta").path("type").asText());
            streamed.append(event.getValue().path("delta").path("text").asText());
        });
        assertEquals(text, streamed.toString());
        assertEquals("end_turn", events.get(events.size() - 2).getValue().path("delta").path("stop_reason").asText());
    }

    @Test
    void streamsAToolUseAsInputJsonDeltas() throws Exception {
        api = MockAnthropicApi.start(Script.of(Turn.write("/workspace/notes/todo.md", "# Todo\n- write the tests\n")));

        List<Map.Entry<String, JsonNode>> events = events(post("/v1/messages", conversation(0, true, true)).body());

        JsonNode block = events.get(1).getValue().path("content_block");
        assertEquals("tool_use", block.path("type").asText());
        assertEquals("Write", block.path("name").asText());
        assertTrue(block.path("id").asText().startsWith("toolu_"));
        assertEquals(json("{}"), block.path("input"));
        StringBuilder partial = new StringBuilder();
        events.stream().filter(event -> event.getKey().equals("content_block_delta")).forEach(event -> {
            assertEquals("input_json_delta", event.getValue().path("delta").path("type").asText());
            partial.append(event.getValue().path("delta").path("partial_json").asText());
        });
        assertEquals(json("{\"file_path\":\"/workspace/notes/todo.md\",\"content\":\"# Todo\\n- write the tests\\n\"}"),
                json(partial.toString()));
        assertEquals("tool_use", events.get(events.size() - 2).getValue().path("delta").path("stop_reason").asText());
    }

    @Test
    void countsTokens() throws Exception {
        api = MockAnthropicApi.start(Script.of());

        HttpResponse<String> response = post("/v1/messages/count_tokens?beta=true", conversation(2, false, true));

        assertEquals(200, response.statusCode());
        assertTrue(json(response.body()).path("input_tokens").asInt() > 0, response.body());
        assertEquals("count_tokens", api.requests().get(0).reply());
    }

    @Test
    void recordsEveryRequestWithTheKeyItCarried() throws Exception {
        api = MockAnthropicApi.start(Script.of());
        String body = conversation(0, false, true);

        post("/v1/messages?beta=true", body);
        client.send(HttpRequest.newBuilder(api.baseUrl().resolve("/v1/messages")).timeout(WAIT)
                .header("authorization", "Bearer sk-ant-oat-bearer").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());

        assertEquals(List.of(KEY, "sk-ant-oat-bearer"), api.keysSeen());
        RecordedRequest first = api.requests().get(0);
        assertEquals("POST", first.method());
        assertEquals("/v1/messages?beta=true", first.target());
        assertEquals("/v1/messages", first.path());
        assertEquals(body, first.body());
        assertEquals("2023-06-01", first.header("Anthropic-Version").orElseThrow());
        assertEquals("claude-sonnet-4-5", first.json().path("model").asText());
    }

    @Test
    void answersLikeTheApiToAWrongKeyBadJsonOrAnUnknownPath() throws Exception {
        api = MockAnthropicApi.builder().expectKey(KEY).start();

        HttpResponse<String> wrongKey = post("/v1/messages", conversation(0, false, true), "sk-ant-cage-placeholder");
        assertEquals(401, wrongKey.statusCode());
        assertEquals("authentication_error", json(wrongKey.body()).path("error").path("type").asText());
        assertEquals(400, post("/v1/messages", "{not json").statusCode());
        assertEquals(400, post("/v1/messages", "{\"model\":\"m\"}").statusCode());
        assertEquals(404, post("/v1/complete", "{}").statusCode());
        HttpResponse<String> get = client.send(HttpRequest.newBuilder(api.baseUrl().resolve("/v1/messages")).timeout(WAIT)
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(405, get.statusCode());
        assertEquals(5, api.requests().size(), "every request is recorded, answered or not");
    }

    @Test
    void loadsAScriptFile(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("script.json");
        Files.writeString(file, "{\"turns\": [{\"text\": \"Hi\"}, {\"tool\": \"Bash\", \"input\": {\"command\": \"curl http://canary\"}},"
                + " {\"tool\": \"Edit\", \"input\": {\"file_path\": \"/w/a\", \"old_string\": \"a\", \"new_string\": \"b\"}}],"
                + " \"final_text\": \"All done.\"}");

        Script script = Script.load(file);

        assertEquals(List.of(Turn.text("Hi"), Turn.bash("curl http://canary"), Turn.edit("/w/a", "a", "b")), script.turns());
        assertEquals(Turn.text("All done."), script.turn(3));

        Files.writeString(file, "{\"turns\": [{\"tool\": \"Bash\"}]}");
        IOException e = assertThrows(IOException.class, () -> Script.load(file));
        assertTrue(e.getMessage().contains("each turn is"), e.getMessage());
    }

    @Test
    void bindsWhereTheTestSays() throws Exception {
        api = MockAnthropicApi.builder().bind(new java.net.InetSocketAddress(java.net.InetAddress.getByName("::1"), 0))
                .script(Script.of(Turn.text("over v6"))).start();

        assertTrue(api.baseUrl().toString().startsWith("http://[0:0:0:0:0:0:0:1]:"), api.baseUrl().toString());
        assertTrue(post("/v1/messages", conversation(0, false, true)).body().contains("over v6"));
        assertEquals(URI.create("http://[0:0:0:0:0:0:0:1]:" + api.address().getPort()), api.baseUrl());
    }
}
