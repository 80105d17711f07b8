package dev.claudecage.config;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;

/** The generated built-in defaults are config/default.yaml as YamlLayer reads it: every value, origin and line. */
class BuiltInDefaultsTest {

    @Test
    void theGeneratedDefaultsAreTheFileAsParsed() throws IOException {
        Map<ConfigKey, RawValue> parsed = YamlLayer.parse(Files.readString(Path.of("config/default.yaml")),
                ConfigLoader.BUILT_IN_DEFAULT);

        assertEquals(parsed, BuiltInDefaults.generated().values());
        assertEquals(ConfigKey.values().length, parsed.size());
    }

    @Test
    void eachCallGetsAMapOfItsOwn() {
        BuiltInDefaults defaults = BuiltInDefaults.generated();
        Map<ConfigKey, RawValue> first = defaults.values();
        first.remove(ConfigKey.MEMORY);

        assertNotSame(first, defaults.values());
        assertEquals(ConfigKey.values().length, defaults.values().size());
    }
}
