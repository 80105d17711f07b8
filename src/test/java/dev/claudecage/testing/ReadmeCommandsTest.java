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
}
