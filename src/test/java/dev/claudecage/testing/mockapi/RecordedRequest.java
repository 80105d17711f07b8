package dev.claudecage.testing.mockapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One request as the mock API received it: headers (names in lower case) with the key it carried,
 * and the body as text. {@code reply} says what the mock answered, e.g. {@code turn 2: tool_use Bash}.
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

    public JsonNode json() {
        try {
            return new ObjectMapper().readTree(body);
        } catch (IOException e) {
            throw new UncheckedIOException("the recorded body is not JSON", e);
        }
    }
}
