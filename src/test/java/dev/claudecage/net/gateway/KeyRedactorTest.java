package dev.claudecage.net.gateway;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class KeyRedactorTest {

    private static final String KEY = "sk-ant-api03-secret";
    private static final String MASK = "*".repeat(KEY.length());

    /** Runs the text through a redactor in pieces cut at the given offsets. */
    private static String redact(String key, String text, int... cuts) throws IOException {
        KeyRedactor redactor = new KeyRedactor(key.getBytes(StandardCharsets.UTF_8));
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int from = 0;
        for (int cut : cuts) {
            redactor.write(bytes, from, cut - from, out);
            from = cut;
        }
        redactor.write(bytes, from, bytes.length - from, out);
        redactor.finish(out);
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Leftmost, non-overlapping replacement: what the streaming redactor must agree with. */
    private static String reference(String key, String text) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < text.length()) {
            if (text.startsWith(key, i)) {
                out.append("*".repeat(key.length()));
                i += key.length();
            } else {
                out.append(text.charAt(i++));
            }
        }
        return out.toString();
    }

    @Test
    void masksEveryOccurrenceWithTheSameLength() throws IOException {
        String text = "key=" + KEY + ", again " + KEY + KEY + " and sk-ant-api03-secre (not whole)";

        String redacted = redact(KEY, text);

        assertEquals("key=" + MASK + ", again " + MASK + MASK + " and sk-ant-api03-secre (not whole)", redacted);
        assertEquals(text.length(), redacted.length());
    }

    @Test
    void masksAKeyCutAcrossWritesAtEveryPoint() throws IOException {
        String text = "data: {\"error\":\"" + KEY + "\"}\n\n";
        int start = text.indexOf(KEY);
        for (int cut = start; cut <= start + KEY.length(); cut++) {
            assertEquals(reference(KEY, text), redact(KEY, text, cut), "cut at " + cut);
        }
        assertEquals(reference(KEY, text), redact(KEY, text, start + 2, start + 5, start + 11));
    }

    @Test
    void holdsBackOnlyWhatCouldStillBeTheKey() throws IOException {
        KeyRedactor redactor = new KeyRedactor(KEY.getBytes(StandardCharsets.UTF_8));
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        byte[] event = "event: ping\ndata: {}\n\n".getBytes(StandardCharsets.UTF_8);
        redactor.write(event, 0, event.length, out);
        assertEquals(0, redactor.pending(), "a complete event passes whole");
        assertEquals("event: ping\ndata: {}\n\n", out.toString(StandardCharsets.UTF_8));

        byte[] prefix = "x sk-ant".getBytes(StandardCharsets.UTF_8);
        redactor.write(prefix, 0, prefix.length, out);
        assertEquals(6, redactor.pending());
        redactor.finish(out);
        assertEquals("event: ping\ndata: {}\n\nx sk-ant", out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void agreesWithTheReferenceOnRandomTextsAndCuts() throws IOException {
        // A key that overlaps itself, over a small alphabet, so that partial matches fall back often.
        String key = "abaabab";
        Random random = new Random(7);
        for (int round = 0; round < 3000; round++) {
            StringBuilder text = new StringBuilder();
            int length = random.nextInt(40);
            for (int i = 0; i < length; i++) {
                text.append("abc".charAt(random.nextInt(3)));
            }
            int[] cuts = random.ints(random.nextInt(4), 0, length + 1).sorted().toArray();
            assertEquals(reference(key, text.toString()), redact(key, text.toString(), cuts),
                    "text " + text + " cut at " + java.util.Arrays.toString(cuts));
        }
    }

    @Test
    void refusesAnEmptyKey() {
        assertThrows(IllegalArgumentException.class, () -> new KeyRedactor(new byte[0]));
    }
}
