package dev.claudecage.testing;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class ReadmeCommandsTest {

    private static final String MARKDOWN = String.join("\n",
            "Text with `claude-cage run` in it.",
            "```",
            "claude-cage not-bash   # a block of output, not commands",
            "```",
            "```bash",
            "make build && sudo make install            # two commands",
            "sudo claude-cage run --network none -- id -u               # prints 1000",
            "",
            "# a comment line alone",
            "sudo --preserve-env=ANTHROPIC_API_KEY claude-cage run --mount $PWD:/workspace \\",
            "    --git-credential 'github.com=command:gh auth token; #x' -- claude",
            "sudo claude-cage attach work; sudo claude-cage list",
            "```",
            "");

    @Test
    void commandsOfBashBlocksWithTheirCommentsContinuationsJoined() {
        List<ReadmeCommands.Command> commands = ReadmeCommands.extract(MARKDOWN);
        assertEquals(List.of(
                new ReadmeCommands.Command("make build", "two commands"),
                new ReadmeCommands.Command("sudo make install", "two commands"),
                new ReadmeCommands.Command("sudo claude-cage run --network none -- id -u", "prints 1000"),
                new ReadmeCommands.Command("sudo --preserve-env=ANTHROPIC_API_KEY claude-cage run --mount $PWD:/workspace "
                        + "--git-credential 'github.com=command:gh auth token; #x' -- claude", ""),
                new ReadmeCommands.Command("sudo claude-cage attach work", ""),
                new ReadmeCommands.Command("sudo claude-cage list", "")), commands);
    }

    @Test
    void theLaunchersArgumentsAfterSudoAndItsOptionsQuotesRemoved() {
        List<ReadmeCommands.Command> commands = ReadmeCommands.extract(MARKDOWN);
        assertNull(commands.get(0).cageArguments());
        assertEquals(List.of("run", "--network", "none", "--", "id", "-u"), commands.get(2).cageArguments());
        assertEquals(List.of("run", "--mount", "$PWD:/workspace", "--git-credential", "github.com=command:gh auth token; #x",
                "--", "claude"), commands.get(3).cageArguments());
    }

    /** The check the README's commands must pass, with its positive controls: each way a command can be wrong is caught. */
    @Test
    void aCommandMustPrintWhatItsCommentSaysAndFailOnlyWhereTheReadmeSaysSo() {
        ReadmeCommands.Command printsUid = new ReadmeCommands.Command("sudo claude-cage run -- id -u", "prints 1000");
        assertNull(ReadmeCommands.problem(printsUid, 0, "1000\n", ""));
        assertEquals("does not print 1000", ReadmeCommands.problem(printsUid, 0, "0\n", ""));
        assertEquals("does not print 1000", ReadmeCommands.problem(printsUid, 125, "1000\n", ""));

        ReadmeCommands.Command readOnly = new ReadmeCommands.Command("sudo claude-cage run -- touch /x", "Read-only file system");
        assertNull(ReadmeCommands.problem(readOnly, 1, "", "touch: cannot touch '/x': Read-only file system\n"));
        assertEquals("exit 125, and the README does not say it fails",
                ReadmeCommands.problem(readOnly, 125, "", "claude-cage: no image cli\n"));

        ReadmeCommands.Command plain = new ReadmeCommands.Command("sudo claude-cage images", "");
        assertNull(ReadmeCommands.problem(plain, 0, "", ""));
        assertEquals("exit 2, and the README does not say it fails", ReadmeCommands.problem(plain, 2, "", "unknown option"));
    }
}
