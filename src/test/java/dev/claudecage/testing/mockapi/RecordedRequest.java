package dev.claudecage.testing.mockapi;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One request as the mock API received it: headers (names in lower case) with the key it carried,
 * and the body as text. {@code reply} says what the mock answered, e.g. {@code turn 2: tool_use Bash}.
 * In a record file (see {@link MockAnthropicApiMain}) each is one JSON line; {@link #readAll} reads them back.
 */
public record RecordedRequest(Instant time, String method, String target, Map<String, List<String>> headers,
                              String body, String reply) {

    public RecordedRequest {
        Map<String, List<String>> copy = new LinkedHashMap<>();
        headers.forEach((name, values) -> copy.put(name.toLowerCase(Locale.ROOT), List.copyOf(values)));
        headers = java.util.Collections.unmodifiableMap(copy);
    }

    /** The path, without the query. */
    public String path() {
        int query = target.indexOf('?');
        return query < 0 ? target : target.substring(0, query);
    }

    public Optional<String> header(String name) {
        List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
        return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
    }

    /** The API key this request carried: x-api-key, else the token of Authorization: Bearer. */
    public Optional<String> key() {
        Optional<String> apiKey = header("x-api-key");
        if (apiKey.isPresent()) {
            return apiKey;
        }
        return header("authorization").filter(value -> value.regionMatches(true, 0, "Bearer ", 0, 7))
                .map(value -> value.substring(7));
    }

    private static final ObjectMapper MAPPER = new ObjectMapper();

    public String toJsonLine() {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("time", time.toString());
        line.put("method", method);
        line.put("target", target);
        line.put("headers", headers);
        line.put("body", body);
        line.put("reply", reply);
        try {
            return MAPPER.writeValueAsString(line);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serialise a recorded request", e);
        }
    }

    public static RecordedRequest fromJsonLine(String line) throws IOException {
        JsonNode node = MAPPER.readTree(line);
        Map<String, List<String>> headers = MAPPER.convertValue(node.path("headers"),
                new TypeReference<Map<String, List<String>>>() { });
        return new RecordedRequest(Instant.parse(node.path("time").asText()), node.path("method").asText(),
                node.path("target").asText(), headers, node.path("body").asText(), node.path("reply").asText());
    }

    /** Every request in a record file, oldest first. */
    public static List<RecordedRequest> readAll(Path file) throws IOException {
        List<RecordedRequest> requests = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            if (!line.isBlank()) {
                requests.add(fromJsonLine(line));
            }
        }
        return requests;
    }

    public JsonNode json() {
        try {
            return MAPPER.readTree(body);
        } catch (IOException e) {
            throw new UncheckedIOException("the recorded body is not JSON", e);
        }
    }
}
