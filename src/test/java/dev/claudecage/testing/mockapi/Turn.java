package dev.claudecage.testing.mockapi;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One assistant turn of a {@link Script}: plain text (which ends the agent's loop), or a call of
 * one of Claude Code's own tools, with the input field names Claude Code uses.
 */
public sealed interface Turn permits Turn.Text, Turn.ToolUse {

    record Text(String text) implements Turn {
        public Text {
            Objects.requireNonNull(text, "text");
        }
    }

    /** A {@code tool_use} content block: {@code name} is the tool, {@code input} its arguments. */
    record ToolUse(String name, Map<String, Object> input) implements Turn {
        public ToolUse {
            Objects.requireNonNull(name, "name");
            input = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(input));
        }
    }

    static Turn text(String text) {
        return new Text(text);
    }

    /** Bash{command}. */
    static Turn bash(String command) {
        return new ToolUse("Bash", Map.of("command", command));
    }

    /** Read{file_path}. */
    static Turn read(String filePath) {
        return new ToolUse("Read", Map.of("file_path", filePath));
    }

    /** Write{file_path, content}. */
    static Turn write(String filePath, String content) {
        Map<String, Object> input = new LinkedHashMap<>();
        input.put("file_path", filePath);
        input.put("content", content);
        return new ToolUse("Write", input);
    }

    /** Edit{file_path, old_string, new_string}. */
    static Turn edit(String filePath, String oldString, String newString) {
        Map<String, Object> input = new LinkedHashMap<>();
        input.put("file_path", filePath);
        input.put("old_string", oldString);
        input.put("new_string", newString);
        return new ToolUse("Edit", input);
    }
}
