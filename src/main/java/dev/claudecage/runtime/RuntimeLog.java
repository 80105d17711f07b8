package dev.claudecage.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import dev.claudecage.json.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The runtime's own JSON log ({@code --log FILE --log-format json}). The cage's stdio is the
 * user's terminal, so the runtime's errors are read from here to tell a failure of the runtime
 * apart from the exit code of the command in the cage.
 */
public record RuntimeLog(Path file) {

    /** The last error-level message, if the runtime logged one. */
    public Optional<String> lastError() {
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        String lastError = null;
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode entry = parse(line);
                if (entry != null && "error".equals(entry.path("level").asText())) {
                    lastError = entry.path("msg").asText();
                }
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.ofNullable(lastError);
    }

    private static JsonNode parse(String line) {
        try {
            return Json.mapper().readTree(line);
        } catch (IOException e) {
            return null;
        }
    }
}
