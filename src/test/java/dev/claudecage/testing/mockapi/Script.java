package dev.claudecage.testing.mockapi;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * What the mock API plays: the assistant's turns in order, then {@code finalText} for every turn
 * after the last. As a file (for {@link MockAnthropicApiMain}):
 * <pre>{"turns": [{"text": "Hello"}, {"tool": "Bash", "input": {"command": "ls"}}], "final_text": "Done."}</pre>
 */
public record Script(List<Turn> turns, String finalText) {

    public static final String DEFAULT_FINAL_TEXT = "Done.";

    public Script {
        turns = List.copyOf(turns);
        java.util.Objects.requireNonNull(finalText, "finalText");
    }

    public static Script of(Turn... turns) {
        return new Script(List.of(turns), DEFAULT_FINAL_TEXT);
    }

    /** The turn at this position of the conversation (0 for the first assistant turn). */
    public Turn turn(int index) {
        return index < turns.size() ? turns.get(index) : new Turn.Text(finalText);
    }

    public static Script load(Path file) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        JsonNode root = mapper.readTree(Files.readString(file));
        if (root == null || !root.isObject()) {
            throw new IOException(file + ": a script is a JSON object with \"turns\" and an optional \"final_text\"");
        }
        List<Turn> turns = new ArrayList<>();
        JsonNode list = root.path("turns");
        if (!list.isArray()) {
            throw new IOException(file + ": \"turns\" must be a list");
        }
        for (Iterator<JsonNode> it = list.elements(); it.hasNext(); ) {
            JsonNode turn = it.next();
            if (turn.hasNonNull("text")) {
                turns.add(Turn.text(turn.get("text").asText()));
            } else if (turn.hasNonNull("tool") && turn.path("input").isObject()) {
                Map<String, Object> input = mapper.convertValue(turn.get("input"), new TypeReference<Map<String, Object>>() { });
                turns.add(new Turn.ToolUse(turn.get("tool").asText(), input));
            } else {
                throw new IOException(file + ": each turn is {\"text\": ...} or {\"tool\": NAME, \"input\": {...}}, not " + turn);
            }
        }
        return new Script(turns, root.path("final_text").asText(DEFAULT_FINAL_TEXT));
    }
}
