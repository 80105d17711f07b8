package dev.claudecage.cli;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** status skips the configuration's load only where there is no mount to find a nested repository in. */
class StatusCommandTest {

    @Test
    void onlyASessionRecordedWithNoMountsSkipsTheLookForNestedRepositories() {
        Map<String, Object> absent = new HashMap<>();
        absent.put("network", "none");
        Map<String, Object> nullMounts = new HashMap<>(absent);
        nullMounts.put("mounts", null);

        assertTrue(StatusCommand.recordedWithoutMounts(absent));
        assertTrue(StatusCommand.recordedWithoutMounts(nullMounts));
        assertTrue(StatusCommand.recordedWithoutMounts(Map.of("mounts", List.of())));
        assertFalse(StatusCommand.recordedWithoutMounts(Map.of("mounts", List.of("/src:/workspace:rw"))),
                "a writable mount is looked in");
        assertFalse(StatusCommand.recordedWithoutMounts(Map.of("mounts", "/src:/workspace:rw")),
                "a value of another shape is left to the configuration's load");
    }

    @Test
    void numbersReadAsTheFormattersDid() {
        for (double value : new double[] {0, 0.004, 0.005, 0.125, 1.5, 2.345, 17.999, 1023.95, 12345.678}) {
            assertEquals(String.format(Locale.ROOT, "%.2f", value), StatusCommand.decimal(value, 2), "value " + value);
            assertEquals(String.format(Locale.ROOT, "%.1f", value), StatusCommand.decimal(value, 1), "value " + value);
        }
        assertEquals("512 B", StatusCommand.bytes(512L));
        assertEquals("640.0 KiB", StatusCommand.bytes(655360L));
        assertEquals("4.0 GiB", StatusCommand.bytes(4L << 30));
        assertEquals("1.5 MiB", StatusCommand.bytes(1572864L));
        assertEquals("?", StatusCommand.bytes(null));
    }
}
