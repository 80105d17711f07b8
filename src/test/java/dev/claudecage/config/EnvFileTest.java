package dev.claudecage.config;

import dev.claudecage.UserInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EnvFileTest {

    private static final Map<String, String> OWN = Map.of("EDITOR", "vi", "EMPTY", "");

    @TempDir
    Path dir;

    @Test
    void linesAreTakenAsDockerTakesThem() throws Exception {
        Path file = Files.writeString(dir.resolve("env"), String.join("\n",
                "# a comment",
                "",
                "   ",
                "A=1",
                "  B=two words ",
                "QUOTED=\"kept\"",
                "EMPTY_VALUE=",
                "EDITOR",
                "  EMPTY  ",
                "EQUALS=a=b"));
        assertEquals(List.of("A=1", "B=two words ", "QUOTED=\"kept\"", "EMPTY_VALUE=", "EDITOR=vi", "EMPTY=", "EQUALS=a=b"),
                EnvFile.read(file, OWN));
    }

    @Test
    void aBadNameSaysWhichLine() {
        UserInputException e = assertThrows(UserInputException.class,
                () -> EnvFile.parse("A=1\n1BAD=2\n", "f.env", OWN));
        assertTrue(e.getMessage().startsWith("--env-file f.env line 2: '1BAD' is not a variable name"), e.getMessage());
        UserInputException spaced = assertThrows(UserInputException.class,
                () -> EnvFile.parse("MY VAR=2\n", "f.env", OWN));
        assertTrue(spaced.getMessage().contains("'MY VAR' is not a variable name"), spaced.getMessage());
    }

    @Test
    void aNameWithoutValueNeedsOneInTheEnvironment() {
        UserInputException e = assertThrows(UserInputException.class, () -> EnvFile.parse("MISSING\n", "f.env", OWN));
        assertTrue(e.getMessage().contains("line 1 gives no value, and MISSING is not set in claude-cage's environment"),
                e.getMessage());
        assertTrue(e.hint().contains("sudo --preserve-env=MISSING"), e.hint());
    }

    @Test
    void aMissingFileIsAnInputError() {
        UserInputException e = assertThrows(UserInputException.class, () -> EnvFile.read(dir.resolve("none"), OWN));
        assertTrue(e.getMessage().startsWith("cannot read --env-file " + dir.resolve("none")), e.getMessage());
    }

    @Test
    void aDashEKeyTakesTheValueOfClaudeCagesEnvironment() {
        assertEquals("EDITOR=vi", EnvFile.expand("EDITOR", OWN));
        assertEquals("EDITOR=emacs", EnvFile.expand("EDITOR=emacs", OWN));
        // Not a name: left for the configuration's own check and its message.
        assertEquals("1X", EnvFile.expand("1X", OWN));
        UserInputException e = assertThrows(UserInputException.class, () -> EnvFile.expand("MISSING", OWN));
        assertTrue(e.getMessage().startsWith("--env 'MISSING' gives no value"), e.getMessage());
    }
}
