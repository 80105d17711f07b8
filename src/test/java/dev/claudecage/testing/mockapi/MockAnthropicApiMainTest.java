package dev.claudecage.testing.mockapi;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MockAnthropicApiMainTest {

    private static final Duration WAIT = Duration.ofSeconds(20);

    private static Path script(Path dir) throws IOException {
        Path script = dir.resolve("script.json");
        Files.writeString(script, "{\"turns\": [{\"tool\": \"Bash\", \"input\": {\"command\": \"echo hi\"}}]}");
        return script;
    }

    private static HttpResponse<String> post(URI base, String key) throws IOException, InterruptedException {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(base.resolve("/v1/messages?beta=true")).timeout(WAIT)
                .header("x-api-key", key).POST(HttpRequest.BodyPublishers.ofString(
                        MockAnthropicApiTest.conversation(0, false, true))).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void startsFromArgumentsAnnouncesItsAddressAndRecordsJsonLines(@TempDir Path dir) throws Exception {
        Path record = dir.resolve("requests.jsonl");
        ByteArrayOutputStream printed = new ByteArrayOutputStream();

        try (MockAnthropicApi api = MockAnthropicApiMain.start(new String[]{"--bind", "127.0.0.1", "--port", "0",
                "--script", script(dir).toString(), "--record", record.toString(), "--expect-key", "sk-real"},
                new PrintStream(printed, true, StandardCharsets.UTF_8))) {
            assertEquals("listening on " + api.baseUrl() + "\n", printed.toString(StandardCharsets.UTF_8));
            assertEquals(200, post(api.baseUrl(), "sk-real").statusCode());
            assertEquals(401, post(api.baseUrl(), "sk-ant-cage-wrong").statusCode());
        }

        List<RecordedRequest> recorded = RecordedRequest.readAll(record);
        assertEquals(2, recorded.size());
        assertEquals("sk-real", recorded.get(0).key().orElseThrow());
        assertEquals("turn 0: tool_use Bash", recorded.get(0).reply());
        assertEquals("/v1/messages?beta=true", recorded.get(0).target());
        assertEquals("sk-ant-cage-wrong", recorded.get(1).key().orElseThrow());
    }

    @Test
    void refusesBadArguments(@TempDir Path dir) throws IOException {
        String script = script(dir).toString();
        String record = dir.resolve("r.jsonl").toString();
        for (String[] args : List.of(
                new String[]{"--bind", "127.0.0.1", "--port", "0", "--script", script},
                new String[]{"--bind", "127.0.0.1", "--port", "0", "--script", script, "--record", record, "--verbose", "x"},
                new String[]{"--bind", "localhost", "--port", "0", "--script", script, "--record", record},
                new String[]{"--bind", "127.0.0.1", "--port", "70000", "--script", script, "--record", record},
                new String[]{"--bind", "127.0.0.1", "--port", "0", "--script", script, "--record"})) {
            assertThrows(IllegalArgumentException.class, () -> MockAnthropicApiMain.start(args, System.out), String.join(" ", args));
        }
    }

    @Test
    void runsAsItsOwnProcessUntilTerminated(@TempDir Path dir) throws Exception {
        Path record = dir.resolve("requests.jsonl");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process process = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                MockAnthropicApiMain.class.getName(), "--bind", "127.0.0.1", "--port", "0",
                "--script", script(dir).toString(), "--record", record.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            assertTrue(line != null && line.startsWith("listening on http://127.0.0.1:"), String.valueOf(line));
            URI base = URI.create(line.substring("listening on ".length()));

            assertTrue(post(base, "sk-any").body().contains("echo hi"));

            process.destroy();
            assertTrue(process.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS), "the mock did not stop on SIGTERM");
            assertEquals(1, RecordedRequest.readAll(record).size());
        } finally {
            process.destroyForcibly();
            process.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
    }
}
