package dev.claudecage.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Main builds the model of the one subcommand a call names (found by its class name, else by its
 * annotation): for every name and alias, that model must hold that command and print the usage the
 * whole model prints; anything else gets the whole model.
 */
class OneSubcommandModelTest {

    private static final int WHOLE = Main.commandLine(Context.forThisHost()).getSubcommands().size();

    @Test
    void everyNameAndAliasGetsItsOwnCommandWithTheWholeModelsUsage() {
        Map<String, CommandLine> whole = Main.commandLine(Context.forThisHost()).getSubcommands();
        int ours = 0;
        for (Map.Entry<String, CommandLine> entry : whole.entrySet()) {
            String word = entry.getKey();
            Class<?> expected = entry.getValue().getCommand().getClass();
            CommandLine model = Main.commandLine(Context.forThisHost(), word);
            if (!expected.getPackageName().equals(Main.class.getPackageName())) {
                // picocli's own help command reads the whole model.
                assertEquals(WHOLE, model.getSubcommands().size(), word);
                continue;
            }
            ours++;
            CommandLine one = model.getSubcommands().get(word);
            assertSame(expected, one.getCommand().getClass(), word);
            assertTrue(model.getSubcommands().size() < WHOLE, word + " got the whole model");
            assertEquals(entry.getValue().getUsageMessage(), one.getUsageMessage(), word);
        }
        // The positive control: the loop saw our commands, aliases included (ps, rm, exec).
        assertTrue(ours > 25, "only " + ours + " names and aliases of our commands");
    }

    @Test
    void aWordThatNamesNoCommandGetsTheWholeModel() {
        for (String word : new String[]{"Run", "runx", "", "main", "withOneSubcommand", "import", "pull"}) {
            assertEquals(WHOLE, Main.commandLine(Context.forThisHost(), word).getSubcommands().size(), "'" + word + "'");
        }
    }
}
