package dev.claudecage.image.dockerfile;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ShellWordsTest {

    private static final ShellWords WORDS = new ShellWords('\\');
    private static final Map<String, String> VARS = Map.of("HOME", "/home/claude", "EMPTY", "", "V", "1.2");

    private static String expand(String word) {
        return WORDS.expand(word, VARS);
    }

    @Test
    void splitsOnUnquotedWhitespaceOnly() {
        assertEquals(List.of("a", "\"b c\"", "'d e'", "f\\ g"), WORDS.split("  a \"b c\"\t'd e' f\\ g  "));
    }

    @Test
    void substitutesVariablesAsDockerDoes() {
        assertEquals("/home/claude/bin", expand("$HOME/bin"));
        assertEquals("/home/claude/bin", expand("${HOME}/bin"));
        assertEquals("x-", expand("x-$UNSET"));
        assertEquals("dflt", expand("${UNSET:-dflt}"));
        assertEquals("dflt", expand("${EMPTY:-dflt}"));
        assertEquals("", expand("${EMPTY-dflt}"));
        assertEquals("alt", expand("${V:+alt}"));
        assertEquals("", expand("${EMPTY:+alt}"));
        assertEquals("alt", expand("${EMPTY+alt}"));
        assertEquals("v1.2-x", expand("v${UNSET:-$V}-x"));
        assertEquals("$", expand("$"));
        assertEquals("a$-b", expand("a$-b"));
    }

    @Test
    void quotesAndEscapes() {
        assertEquals("$HOME", expand("'$HOME'"));
        assertEquals("/home/claude x", expand("\"$HOME x\""));
        assertEquals("$HOME", expand("\\$HOME"));
        assertEquals("say \"hi\"", expand("\"say \\\"hi\\\"\""));
        assertEquals("a\\b", expand("\"a\\b\""), "other escapes stay inside double quotes");
        assertEquals("ab", expand("a\\b"));
        assertEquals("C:\\dir", new ShellWords('`').expand("C:\\dir", Map.of()));
    }

    @Test
    void malformedWordsSayWhatIsWrong() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> expand("'open"))
                .getMessage().contains("unterminated single quote"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> expand("\"open"))
                .getMessage().contains("unterminated double quote"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> expand("${HOME"))
                .getMessage().contains("without its closing '}'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> expand("${HOME^^}"))
                .getMessage().contains("uses the modifier '^'"));
        assertEquals("REQUIRED: set it with --build-arg",
                assertThrows(IllegalArgumentException.class, () -> expand("${REQUIRED:?set it with --build-arg}")).getMessage());
    }

    @Test
    void buildKitsPatternModifiersTrimAndReplaceAsTheShellDoes() {
        Map<String, String> vars = Map.of("FILE", "dir/archive.tar.gz", "V", "a-b-c");
        assertEquals("archive.tar.gz", WORDS.expand("${FILE##*/}", vars));
        assertEquals("archive.tar.gz", WORDS.expand("${FILE#*/}", vars));
        assertEquals("dir/archive.tar", WORDS.expand("${FILE%.*}", vars));
        assertEquals("dir/archive", WORDS.expand("${FILE%%.*}", vars));
        assertEquals("dir/archive.tar.gz", WORDS.expand("${FILE#x*}", vars), "no match: unchanged");
        assertEquals("a_b-c", WORDS.expand("${V/-/_}", vars));
        assertEquals("a_b_c", WORDS.expand("${V//-/_}", vars));
        assertEquals("a-b-c", WORDS.expand("${V/[xy]/_}", vars));
        assertEquals("", WORDS.expand("${UNSET#x}", vars));
    }

    @Test
    void copyHeredocsExpandVariablesButKeepQuotesAndUnsetNames() {
        Map<String, String> vars = Map.of("NAME", "world");
        assertEquals("echo \"hello world\" '$NAME' $UNSET ${UNSET} $NAME\n",
                WORDS.expandKeepingQuotes("echo \"hello $NAME\" '$NAME' $UNSET ${UNSET} \\$NAME\n", vars));
        assertEquals("fallback", WORDS.expandKeepingQuotes("${UNSET:-fallback}", vars));
    }
}
