package dev.claudecage.session;

import dev.claudecage.config.CageConfig;
import dev.claudecage.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SessionConfigTest {

    @Test
    void aRecordedConfigurationLoadsBackTheSame(@TempDir Path dir) throws Exception {
        CageConfig config = SessionConfig.load(Map.of("rootfs", dir.toString(), "network", "none", "cpus", "1.5",
                "memory", "2g", "mounts", List.of(dir + ":/workspace:ro"), "env", List.of("A=b"), "persist", "false"));
        Map<String, Object> recorded = config.recordedValues();
        // Through state.json and back, as a restart reads it.
        @SuppressWarnings("unchecked")
        Map<String, Object> reread = Json.read(Json.write(recorded), Map.class);
        assertEquals(config, SessionConfig.load(reread));
        assertEquals(1.5, config.cpus());
        assertEquals(false, config.persist());
    }
}
