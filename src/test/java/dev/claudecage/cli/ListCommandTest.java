package dev.claudecage.cli;

import dev.claudecage.session.SessionSummary;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class ListCommandTest {

    private static final String NL = System.lineSeparator();

    @Test
    void theTableLinesUpAsFormattedColumnsDid() {
        String table = ListCommand.table(List.of(
                new SessionSummary("brisk-otter", "running", 75L, "cli", "none", List.of("sh", "-c", "sleep 1")),
                new SessionSummary("a", "exited(1)", null, "desktop", "filtered", List.of("claude"))));
        String expected = String.format(Locale.ROOT, "%-11s  %-9s  %-6s  %-7s  %-8s  %s%n", "NAME", "STATE", "UPTIME",
                "MODE", "NETWORK", "COMMAND")
                + String.format(Locale.ROOT, "%-11s  %-9s  %-6s  %-7s  %-8s  %s%n", "brisk-otter", "running", "1m15s",
                "cli", "none", "sh -c sleep 1")
                + String.format(Locale.ROOT, "%-11s  %-9s  %-6s  %-7s  %-8s  %s%n", "a", "exited(1)", "-", "desktop",
                "filtered", "claude");
        assertEquals(expected, table);
    }

    @Test
    void aRecordsControlCharactersCannotRewriteTheTerminal() {
        // A command that clears the line and sets the window title, and a line feed that would start a fake row.
        String table = ListCommand.table(List.of(new SessionSummary("brisk-otter", "running\u001b[2K", 1L, "cli",
                "none", List.of("sh", "-c", "x\u001b]0;owned\u0007\nfake-row  running"))));
        assertFalse(table.contains("\u001b"), table);
        assertFalse(table.contains("\u0007"), table);
        assertEquals(2, table.split(NL, -1).length - 1, "one header line and one row: " + table);
        assertEquals("padded  |", ListCommand.padded(new StringBuilder(), "padded", 8).append('|').toString());
    }
}
