package dev.claudecage.config;

import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** config/default.yaml is the built-in layer, so it must set every key, and only known keys. */
class DefaultYamlTest {

    private static final Path DEFAULT_YAML = Path.of("config/default.yaml");

    @Test
    void setsExactlyTheKnownKeysInTheirOrder() throws IOException {
        Map<String, Object> document = new Yaml(new SafeConstructor(new LoaderOptions()))
                .load(Files.readString(DEFAULT_YAML));

        assertEquals(Arrays.stream(ConfigKey.values()).map(ConfigKey::yamlName).toList(),
                List.copyOf(document.keySet()));
    }

    @Test
    void everyKeyHasACommentOnTheLineAbove() throws IOException {
        List<String> lines = Files.readAllLines(DEFAULT_YAML);
        for (int i = 0; i < lines.size(); i++) {
            if (!lines.get(i).isEmpty() && Character.isLetter(lines.get(i).charAt(0))) {
                assertTrue(i > 0 && lines.get(i - 1).startsWith("# "), "no comment above: " + lines.get(i));
            }
        }
    }

    @Test
    void theJarCarriesThisVeryFile() throws IOException {
        try (InputStream in = ConfigLoader.class.getResourceAsStream("default.yaml")) {
            assertNotNull(in, "default.yaml is not on the class path next to ConfigLoader");
            assertEquals(Files.readString(DEFAULT_YAML), new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }
}
