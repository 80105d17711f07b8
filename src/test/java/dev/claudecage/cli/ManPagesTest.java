package dev.claudecage.cli;

import dev.claudecage.process.CommandResult;
import dev.claudecage.process.ProcessRunner;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ManPagesTest {

    @TempDir
    Path dir;

    private static final Map<String, String> PAGES = ManPages.render(Main.commandLine(Context.forThisHost()), "claude-cage 1.2.3");

    @Test
    void everyVisibleCommandHasAPageNamedByItsPath() {
        for (String page : List.of("claude-cage.1", "claude-cage-run.1", "claude-cage-shell.1", "claude-cage-inspect.1",
                "claude-cage-image.1", "claude-cage-image-save.1", "claude-cage-completion.1")) {
            assertTrue(PAGES.containsKey(page), page + " in " + PAGES.keySet());
        }
        assertEquals(List.of(), PAGES.keySet().stream().filter(page -> page.contains("generate-completion")).toList(),
                "an alias has no page of its own");
    }

    @Test
    void aPageCarriesTheHelpsWordsInRoff() {
        String run = PAGES.get("claude-cage-run.1");
        assertTrue(run.startsWith(".TH \"CLAUDE-CAGE-RUN\" \"1\" \"\" \"claude\\-cage 1.2.3\" \"claude-cage manual\"\n"
                + ".SH NAME\nclaude\\-cage\\-run \\- Runs one command in a fresh hardened cage"), run);
        assertTrue(run.contains(".TP\n\\fB\\-v\\fR, \\fB\\-\\-mount\\fR=\\fIHOST:CAGE[:ro|:rw]\\fR\n"), run);
        assertTrue(run.contains(".TP\n\\fB\\-d\\fR, \\fB\\-\\-detach\\fR\n"), run);
        assertTrue(run.contains(".SH SEE ALSO\n\\fBclaude\\-cage\\fR(1)\n"), run);
        String shell = PAGES.get("claude-cage-shell.1");
        assertTrue(shell.contains("Also called: exec."), shell);
        String top = PAGES.get("claude-cage.1");
        assertTrue(top.contains(".TP\n\\fBlist, ps\\fR\n"), top);
        assertTrue(top.contains("See \\fBclaude\\-cage\\-list\\fR(1)."), top);
    }

    @Test
    void textThatLooksLikeRoffIsEscaped() {
        assertEquals("a \\e b \\- c", ManPages.escape("a \\ b - c"));
        assertEquals("\\&.TH injected\n\\&'also", ManPages.escape(".TH injected\n'also"));
    }

    @Test
    void groffFormatsEveryPageWithoutAWarning() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/groff")), "groff (groff-base) is not installed");
        ProcessRunner runner = new ProcessRunner(false);
        for (Map.Entry<String, String> page : PAGES.entrySet()) {
            Path file = Files.writeString(dir.resolve(page.getKey()), page.getValue());
            CommandResult result = runner.runAllowingFailure(List.of("groff", "-man", "-Tutf8", "-ww", "-z",
                    file.toString()), Duration.ofSeconds(30));
            assertEquals(0, result.exitCode(), page.getKey() + ": " + result.stderr());
            assertEquals("", result.stderr(), page.getKey());
        }
    }
}
