package dev.claudecage.json;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
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

    enum Phase { EARLY, LATE }

    record Plain(String zeta, long alpha, Integer missing, boolean on, List<Plain> nested, List<String> empty, Phase phase) {
    }

    record Dated(Instant at) {
    }

    record Renamed(@JsonProperty("other") String name) {
    }

    @Test
    void aPlainRecordIsWrittenAsTheMapperWritesIt() {
        Plain plain = new Plain("z\u00e9\"\n", 1L << 40, null, true, List.of(new Plain("in", -1, 7, false, List.of(), List.of(),
                null)), List.of(), Phase.LATE);

        assertEquals(Json.write(plain), Json.writePlainRecord(plain));
    }

    @Test
    void anInstantIsWrittenAsTheMappersModuleWritesIt() {
        Dated dated = new Dated(Instant.ofEpochSecond(1_795_858_241L, 374_869_000L));

        assertEquals(Json.write(dated), Json.writePlainRecord(dated));
        assertEquals(Json.writeLine(dated), Json.writePlainLine(dated));
    }

    record Line(Instant time, String destination, Integer port, Long bytes, String absent, List<String> tags) {
    }

    @Test
    void aPlainLineIsTheLineWritersBytesAndEscapesWhatACageCouldSend() {
        // A surrogate pair (an emoji), a lone surrogate, and every control character and DEL besides HOSTILE's.
        StringBuilder controls = new StringBuilder();
        for (char c = 0; c < 0x20; c++) {
            controls.append(c);
        }
        String text = HOSTILE + "\uD83D\uDE00\uD800" + controls + "\u007f\"\\";
        Line line = new Line(Instant.EPOCH, text, 65535, Long.MAX_VALUE, null, List.of(text, ""));

        String plain = Json.writePlainLine(line);

        assertEquals(Json.writeLine(line), plain);
        assertTrue(printableAscii(plain), plain);
        assertEquals(text, Json.read(plain, Map.class).get("destination"));
    }

    @Test
    void whatThePlainWriterWouldWriteDifferentlyIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> Json.writePlainRecord(new Renamed("x")));
        assertThrows(IllegalArgumentException.class, () -> Json.writePlainLine(new Renamed("x")));
        // Positive control: the mapper writes both, the second under another name.
        assertTrue(Json.write(new Renamed("x")).contains("\"other\""));
    }

    /** JSON of every kind a file could hold, with the strings a cage could write and numbers at each width's edge. */
    private static String everyKindOfValue() throws Exception {
        StringBuilder controls = new StringBuilder();
        for (char c = 0; c < 0x20; c++) {
            controls.append(c);
        }
        String hostile = HOSTILE + "\uD83D\uDE00\uD800" + controls + "\u007f\"\\";
        Map<String, Object> tree = new LinkedHashMap<>();
        tree.put("z", hostile + "x".repeat(1_000_000));
        tree.put(hostile, List.of(hostile, ""));
        tree.put("a", Arrays.asList(0, -1, Integer.MAX_VALUE, (long) Integer.MAX_VALUE + 1, Long.MIN_VALUE,
                new BigInteger("123456789012345678901234567890"), 1.5, -0.0, 1e300, true, false, null));
        tree.put("nested", Map.of("empty", Map.of(), "none", List.of()));
        tree.put("null", null);
        // A mapper of its own: this one keeps the map's order and its null, which Json's would sort and leave out.
        String written = new ObjectMapper().writeValueAsString(tree);
        // And escapes no generator writes, which a hand-made file may hold.
        return written.substring(0, written.length() - 1) + ",\"escaped\":\"\\/\\u00e9\\ud83d\\ude00\\u0000\\b\"}";
    }

    @Test
    void aValueIsReadAsTheMapperReadsOneIntoAnObject() throws Exception {
        String json = everyKindOfValue();
        Object expected = Json.mapper().readValue(json, Object.class);

        Object read;
        try (var parser = Json.factory().createParser(json)) {
            parser.nextToken();
            read = Json.value(parser);
        }

        assertEquals(expected, read);
        // Equal maps of equal numbers can still differ in kind (1 as Integer or Long): the kinds too, in order.
        assertEquals(kinds(expected), kinds(read));
        assertEquals(List.of("z", "a", "nested", "null", "escaped"),
                ((Map<?, ?>) read).keySet().stream().filter(key -> !key.toString().startsWith(HOSTILE)).toList(),
                "the file's order");
        assertEquals("/\u00e9\uD83D\uDE00\u0000\b", ((Map<?, ?>) read).get("escaped"));
    }

    private static List<String> kinds(Object value) {
        List<String> kinds = new ArrayList<>();
        if (value instanceof Map<?, ?> map) {
            map.forEach((key, item) -> kinds.addAll(kinds(item)));
        } else if (value instanceof List<?> list) {
            list.forEach(item -> kinds.addAll(kinds(item)));
        }
        kinds.add(value == null ? "null" : value.getClass().getName());
        return kinds;
    }

    @Test
    void aDamagedValueIsRefused() throws Exception {
        for (String json : List.of("{\"a\": [1, 2", "{\"a\": ", "[1,]", "{\"a\" 1}")) {
            try (var parser = Json.factory().createParser(json)) {
                parser.nextToken();
                assertThrows(IOException.class, () -> Json.value(parser), json);
            }
        }
        try (var parser = Json.factory().createParser("{\"a\": [1, 2]}")) {
            parser.nextToken();
            assertEquals(Map.of("a", List.of(1, 2)), Json.value(parser), "the positive control");
        }
    }
}
