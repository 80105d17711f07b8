package dev.claudecage.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.claudecage.UserInputException;
import dev.claudecage.config.ConfigLoader;
import dev.claudecage.config.HostFacts;
import dev.claudecage.config.ConfigKey;
import dev.claudecage.json.Json;
import dev.claudecage.process.ProcessRunner;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigCommandTest {

    @TempDir
    Path dir;

    private Path userFile;
    private ConfigLoader loader;
    private final StringWriter out = new StringWriter();

    @BeforeEach
    void setUp() throws Exception {
        userFile = dir.resolve("config.yaml");
        Files.writeString(userFile, "memory: 2g\nallowed_hosts: [a.example.com, b.example.com]\n");
        loader = new ConfigLoader(dir.resolve("missing-system.yaml"), userFile, Map.of("CLAUDE_CAGE_CPUS", "1.5"),
                new HostFacts(4, false, Optional.empty(), List.of()), dir);
    }

    /** A context whose configuration comes from the test's files and environment, and that keeps no state. */
    private Context context() {
        return new Context(new ProcessRunner(false), () -> loader, () -> {
            throw new AssertionError("config reads no state");
        });
    }

    private int run(String... args) {
        List<String> all = new java.util.ArrayList<>(List.of("config"));
        all.addAll(List.of(args));
        return Main.commandLine(context(), all.toArray(String[]::new)).setOut(new PrintWriter(out))
                .execute(all.toArray(String[]::new));
    }

    @Test
    void printsEachKeyValueAndSourceInAlignedColumns() {
        assertEquals(0, run());

        List<String> lines = out.toString().lines().toList();
        // allowed_hosts takes a row per host.
        assertEquals(ConfigKey.values().length + 2, lines.size(), out.toString());
        assertTrue(lines.get(0).matches("KEY +VALUE +SOURCE"), lines.get(0));
        int valueColumn = lines.get(0).indexOf("VALUE");
        int sourceColumn = lines.get(0).indexOf("SOURCE");
        int longestKey = java.util.Arrays.stream(ConfigKey.values()).mapToInt(key -> key.yamlName().length()).max()
                .orElseThrow();
        assertEquals(longestKey + 2, valueColumn, "two spaces after the longest key");
        String row = "%-" + valueColumn + "s%-" + (sourceColumn - valueColumn) + "s%s";
        assertTrue(lines.contains(String.format(row, "memory", "2g", userFile)), out.toString());
        assertTrue(lines.contains(String.format(row, "cpus", "1.5", "environment CLAUDE_CAGE_CPUS")), out.toString());
        assertTrue(lines.contains(String.format(row, "allowed_hosts", "a.example.com", userFile)), out.toString());
        assertEquals(lines.indexOf(String.format(row, "allowed_hosts", "a.example.com", userFile)) + 1,
                lines.indexOf(String.format(row, "", "b.example.com", userFile)), out.toString());
        assertTrue(lines.contains(String.format(row, "tmpfs_size", "1g", "built-in default")), out.toString());
        assertTrue(lines.contains(String.format(row, "rootfs", "(none)", "built-in default")), out.toString());
        for (String line : lines) {
            assertTrue(line.charAt(valueColumn - 1) == ' ' && line.charAt(valueColumn) != ' ', line);
            assertTrue(line.charAt(sourceColumn - 1) == ' ' && line.charAt(sourceColumn) != ' ', line);
        }
    }

    @Test
    void showsEachPresetsHostsWithThePresetAsTheirSource() throws Exception {
        Files.writeString(userFile, "allowed_hosts: [api.anthropic.com, preset:pypi]\n");
        assertEquals(0, run());
        List<String> rows = out.toString().lines().map(line -> line.strip().replaceAll(" {2,}", " | ")).toList();
        int first = rows.indexOf("allowed_hosts | api.anthropic.com | " + userFile);
        assertTrue(first > 0, out.toString());
        assertEquals(List.of("pypi.org | preset:pypi in " + userFile, "files.pythonhosted.org | preset:pypi in " + userFile),
                rows.subList(first + 1, first + 3));

        out.getBuffer().setLength(0);
        assertEquals(0, run("--json"));
        JsonNode hosts = Json.mapper().readTree(out.toString()).get("allowed_hosts");
        assertEquals(3, hosts.get("value").size());
        assertEquals("preset:pypi", hosts.get("presets").get("files.pythonhosted.org").asText());
        assertFalse(hosts.get("presets").has("api.anthropic.com"));
        assertFalse(Json.mapper().readTree(out.toString()).get("memory").has("presets"));
    }

    /** An entry on another port is reached through a TCP relay: config says at which gateway port, as the cage gets it. */
    @Test
    void showsTheGatewayPortOfEachRelayedEntry() throws Exception {
        Files.writeString(userFile, "allowed_hosts: [a.example.com, db.example.com:5432, db2.example.com:5432]\n");
        assertEquals(0, run());
        List<String> rows = out.toString().lines().map(line -> line.strip().replaceAll(" {2,}", " | ")).toList();
        int first = rows.indexOf("allowed_hosts | a.example.com | " + userFile);
        assertTrue(first > 0, out.toString());
        assertEquals(List.of("db.example.com:5432 (TCP relay on gateway port 5432) | " + userFile,
                "db2.example.com:5432 (TCP relay on gateway port 40000) | " + userFile), rows.subList(first + 1, first + 3));

        out.getBuffer().setLength(0);
        assertEquals(0, run("--json"));
        JsonNode relays = Json.mapper().readTree(out.toString()).get("allowed_hosts").get("tcpRelays");
        assertEquals(5432, relays.get("db.example.com:5432").asInt());
        assertEquals(40000, relays.get("db2.example.com:5432").asInt());
        assertEquals(2, relays.size());
    }

    @Test
    void printsJsonWithTheValueAndSourceOfEachKey() throws Exception {
        assertEquals(0, run("--json"));

        JsonNode json = Json.mapper().readTree(out.toString());
        assertEquals(ConfigKey.values().length, json.size());
        assertEquals("2g", json.get("memory").get("value").asText());
        assertEquals(userFile.toString(), json.get("memory").get("source").asText());
        assertEquals(1.5, json.get("cpus").get("value").asDouble());
        assertEquals("environment CLAUDE_CAGE_CPUS", json.get("cpus").get("source").asText());
        assertEquals(List.of("a.example.com", "b.example.com"),
                List.of(json.get("allowed_hosts").get("value").get(0).asText(),
                        json.get("allowed_hosts").get("value").get(1).asText()));
        assertTrue(json.get("persist").get("value").isBoolean());
        assertTrue(json.get("rootfs").get("value").isNull());
    }

    @Test
    void validatePrintsValidForAGoodFile() {
        assertEquals(0, run("--validate", userFile.toString()));

        assertEquals(userFile + ": valid" + System.lineSeparator(), out.toString());
    }

    @Test
    void validateThrowsTheProblemOfABadFile() throws Exception {
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "memory: 4q\n");

        ConfigCommand command = new ConfigCommand();
        command.context = context();
        new CommandLine(command).parseArgs("--validate", bad.toString());

        UserInputException e = assertThrows(UserInputException.class, command::call);
        assertTrue(e.getMessage().startsWith("memory: '4q' is not a size (from " + bad + ", line 1)"), e.getMessage());
    }

    @Test
    void jsonAndValidateDoNotMix() {
        CommandLine commandLine = Main.commandLine(context(), "config").setErr(new PrintWriter(new StringWriter()));

        assertEquals(2, commandLine.execute("config", "--json", "--validate", userFile.toString()));
    }
}
