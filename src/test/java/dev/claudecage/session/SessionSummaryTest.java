package dev.claudecage.session;

import org.junit.jupiter.api.Test;

import java.time.DateTimeException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A record's start time read by hand as Instant.parse reads it, and refused as it refuses. */
class SessionSummaryTest {

    @Test
    void instantsReadAsInstantParseReadsThem() {
        List<String> texts = new ArrayList<>(List.of("2026-12-08T02:57:57.824015252Z", "2026-12-08T02:57:57Z",
                "1970-01-01T00:00:00Z", "1969-12-31T23:59:59.999999999Z", "2024-02-29T12:00:00.5Z",
                "2000-02-29T00:00:00.120Z", "0000-01-01T00:00:00Z", "0000-03-01T00:00:00Z", "9999-12-31T23:59:59.1Z",
                "2026-01-31T10:11:12.123456Z", "2025-03-01T00:00:00.000000001Z"));
        Random random = new Random(16);
        for (int i = 0; i < 20_000; i++) {
            Instant instant = Instant.ofEpochSecond(random.nextLong(-62_167_219_200L, 253_402_300_800L),
                    random.nextInt(4) == 0 ? 0 : random.nextInt(1_000_000_000));
            texts.add(instant.toString());
        }
        for (String text : texts) {
            assertEquals(Instant.parse(text), SessionSummary.instant(text), text);
        }
    }

    @Test
    void otherFormsAreReadOrRefusedAsInstantParseDoes() {
        // A leap second, the end of a day, an empty fraction, an offset, years past 9999 and before 0, and dates,
        // times and forms that are none.
        List<String> texts = List.of("2016-12-31T23:59:60Z", "2026-12-08T24:00:00Z", "2026-12-08T02:57:57.Z",
                "2026-12-08T02:57:57+01:00", "+10000-01-01T00:00:00Z", "-0001-01-01T00:00:00Z", "2025-02-29T00:00:00Z",
                "1900-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z",
                "2026-12-08T24:00:01Z", "2026-12-08T02:60:00Z", "2026-12-08T02:57:57.1234567890Z", "2026-12-08T02:57:5xZ",
                "2026-12-08 02:57:57Z", "2026-12-08T02:57:57", "\uff12026-12-08T02:57:57Z", "");
        int refused = 0;
        for (String text : texts) {
            Instant expected;
            try {
                expected = Instant.parse(text);
            } catch (DateTimeException e) {
                refused++;
                DateTimeException actual = assertThrows(DateTimeException.class, () -> SessionSummary.instant(text), text);
                assertEquals(e.getClass(), actual.getClass(), text);
                assertEquals(e.getMessage(), actual.getMessage(), text);
                continue;
            }
            assertEquals(expected, SessionSummary.instant(text), text);
        }
        assertEquals(13, refused, "the texts Instant.parse refuses");
    }
}
