package dev.claudecage.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** claude-cage with no arguments: a short orientation, not the whole command list. */
class OrientationTest {

    @Test
    void noArgumentsPrintTheCommandsMostPeopleNeedAndWhereTheDocsAre() {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int exit;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            exit = Main.execute();
        } finally {
            System.setOut(original);
        }
        String text = captured.toString(StandardCharsets.UTF_8);
        assertEquals(0, exit);
        List<String> lines = text.lines().toList();
        assertTrue(lines.size() <= 20, "more than a short screen: " + lines.size() + " lines\n" + text);
        for (String command : List.of("sudo claude-cage run --mount $PWD:/workspace -- claude",
                "sudo claude-cage start --name work", "sudo claude-cage verify", "claude-cage help")) {
            assertTrue(text.contains(command), command + " missing:\n" + text);
        }
        assertFalse(text.contains("Usage:"), text);
        // In the source tree the README is found beside target/.
        assertEquals("Docs: " + Path.of("README.md").toAbsolutePath() + " and the docs/ folder beside it.",
                lines.get(lines.size() - 1));
    }

    @Test
    void withoutAnInstalledReadmeItSaysWhereTheDocsLive() {
        assertTrue(Orientation.text(Optional.empty()).endsWith("Docs: README.md and docs/ in the source tree.\n"));
    }
}
