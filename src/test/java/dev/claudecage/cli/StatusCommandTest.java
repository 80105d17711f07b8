package dev.claudecage.cli;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

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
}
