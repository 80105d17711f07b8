package dev.claudecage.json;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JsonTest {

    /** A name a cage could send: an escape sequence, DEL, a C1 CSI, a right-to-left override, and plain non-ASCII. */
    private static final String HOSTILE = "evil\u001b]0;owned\u0007\u007f\u009b2J\u202egnp.exe\u00e9.example";

    private static boolean printableAscii(String text) {
        return text.chars().allMatch(c -> c >= 0x20 && c < 0x7f);
    }

    @Test
    void jsonLinesArePrintableAsciiAndReadBackTheSame() {
        String line = Json.writeLine(Map.of("destination", HOSTILE));

        assertTrue(printableAscii(line), line);
        assertEquals(HOSTILE, Json.mapper().convertValue(Json.read(line, Map.class), Map.class).get("destination"));
        // Positive control: the pretty form, which no terminal is meant to show, keeps the characters as they are.
        assertFalse(printableAscii(Json.write(Map.of("destination", HOSTILE)).strip().replace("\n", " ")));
    }

    @Test
    void aLineReadBackIsMadePrintableAndStaysTheSameJson() {
        String raw = "{\"destination\":\"" + HOSTILE.replace("\u0007", "\\u0007").replace("\u001b", "\\u001b") + "\"}";
        assertFalse(printableAscii(raw), "positive control: the raw line holds what a terminal would obey");

        String printable = Json.printableLine(raw);

        assertTrue(printableAscii(printable), printable);
        assertEquals(Json.read(raw, Map.class), Json.read(printable, Map.class));
    }
}
