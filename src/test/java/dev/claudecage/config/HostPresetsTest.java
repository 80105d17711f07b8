package dev.claudecage.config;

import dev.claudecage.UserInputException;
import dev.claudecage.net.EgressPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** preset:NAME in allowed_hosts: each expands to exactly its documented hosts, checked like the user's own. */
class HostPresetsTest {

    @TempDir
    Path dir;

    /** The expansions as documented in docs/network.md; a change to a preset changes this table and the doc. */
    private static final Map<String, List<String>> EXPANSIONS = new LinkedHashMap<>();

    static {
        EXPANSIONS.put("npm", List.of("registry.npmjs.org", "registry.yarnpkg.com"));
        EXPANSIONS.put("pypi", List.of("pypi.org", "files.pythonhosted.org"));
        EXPANSIONS.put("github", List.of("github.com", "github.com:22", "api.github.com", "codeload.github.com",
                "objects.githubusercontent.com", "release-assets.githubusercontent.com", "raw.githubusercontent.com"));
        EXPANSIONS.put("debian", List.of("deb.debian.org", "deb.debian.org:80", "security.debian.org",
                "security.debian.org:80"));
        EXPANSIONS.put("maven", List.of("repo.maven.apache.org", "repo1.maven.org"));
        EXPANSIONS.put("gradle", List.of("plugins.gradle.org", "plugins-artifacts.gradle.org", "services.gradle.org",
                "downloads.gradle.org"));
        EXPANSIONS.put("go", List.of("proxy.golang.org", "sum.golang.org", "storage.googleapis.com"));
        EXPANSIONS.put("cargo", List.of("index.crates.io", "crates.io", "static.crates.io"));
    }

    @Test
    void eachPresetExpandsToExactlyItsHosts() {
        assertEquals(List.copyOf(EXPANSIONS.keySet()), HostPresets.ALL.stream().map(HostPresets.Preset::name).toList());
        EXPANSIONS.forEach((name, hosts) -> {
            EffectiveConfig effective = new ConfigFixture(dir).user("allowed_hosts: [preset:" + name + "]\n").load();
            assertEquals(hosts, effective.config().allowedHosts(), name);
            hosts.forEach(host -> assertEquals("preset:" + name, effective.allowedHostPresets().get(host), host));
        });
    }

    @Test
    void presetsMixWithHostsInOrderWithoutRepeatsAndAHostWrittenOutIsTheUsers() {
        EffectiveConfig effective = new ConfigFixture(dir)
                .user("allowed_hosts:\n  - api.anthropic.com\n  - github.com\n  - PRESET:GitHub\n  - preset:npm\n").load();
        assertEquals(List.of("api.anthropic.com", "github.com", "github.com:22", "api.github.com", "codeload.github.com",
                "objects.githubusercontent.com", "release-assets.githubusercontent.com", "raw.githubusercontent.com",
                "registry.npmjs.org", "registry.yarnpkg.com"), effective.config().allowedHosts());
        assertFalse(effective.allowedHostPresets().containsKey("github.com"), effective.allowedHostPresets().toString());
        assertEquals("preset:github", effective.allowedHostPresets().get("api.github.com"));
        assertEquals("preset:npm", effective.allowedHostPresets().get("registry.yarnpkg.com"));
    }

    @Test
    void presetsWorkInEveryLayer() {
        ConfigFixture fixture = new ConfigFixture(dir).env("CLAUDE_CAGE_ALLOWED_HOSTS", "api.anthropic.com,preset:pypi");
        assertEquals(List.of("api.anthropic.com", "pypi.org", "files.pythonhosted.org"),
                fixture.load().config().allowedHosts());
        EffectiveConfig flagged = fixture.loader().load(Map.of("allowed_hosts", List.of("preset:cargo")));
        assertEquals(List.of("index.crates.io", "crates.io", "static.crates.io"), flagged.config().allowedHosts());
        assertEquals("preset:cargo", flagged.allowedHostPresets().get("crates.io"));
    }

    @Test
    void anUnknownPresetIsRefusedWithTheNearestAndTheList() {
        String message = new ConfigFixture(dir).user("allowed_hosts: [preset:nmp]\n").loadError();
        assertTrue(message.startsWith("allowed_hosts: 'preset:nmp' is not a preset (from "), message);
        assertTrue(message.contains("did you mean preset:npm? the presets are preset:npm, preset:pypi, preset:github, "
                + "preset:debian, preset:maven, preset:gradle, preset:go, preset:cargo"), message);
    }

    @Test
    void everyPresetHostPassesTheChecksOfAUsersEntry() {
        for (HostPresets.Preset preset : HostPresets.ALL) {
            for (String host : preset.hosts()) {
                EffectiveConfig effective = new ConfigFixture(dir).user("allowed_hosts: ['" + host + "']\n").load();
                assertEquals(List.of(host), effective.config().allowedHosts(), preset.entry());
            }
        }
    }

    /** A preset's wildcard meets the same rules as the user's own: too broad is refused, *.domain covers below it. */
    @Test
    void aWildcardInAPresetFollowsTheUsersRules() {
        HostPresets.Preset broad = new HostPresets.Preset("broad", "a test's", List.of("*.com"));
        HostPresets.Preset cdn = new HostPresets.Preset("cdn", "a test's", List.of("*.cdn.example"));
        RawValue raw = RawValue.list(ConfigKey.ALLOWED_HOSTS, List.of("preset:broad"), "a test", 1);
        String message = assertThrows(UserInputException.class,
                () -> ConfigValidator.expandAllowedHosts(raw, List.of(broad, cdn))).getMessage();
        assertEquals("allowed_hosts: 'preset:broad' holds '*.com', which is overly broad: a wildcard must cover a domain "
                + "of at least two labels, as in *.example.com (from a test, line 1); use host names such as "
                + "api.anthropic.com, wildcards such as *.example.com, each with an optional :PORT, or presets such as "
                + "preset:npm, as a YAML list or separated by commas", message);
        Map<String, String> expanded = ConfigValidator.expandAllowedHosts(
                RawValue.list(ConfigKey.ALLOWED_HOSTS, List.of("preset:cdn"), "a test", 1), List.of(broad, cdn));
        assertEquals(Map.of("*.cdn.example", "preset:cdn"), expanded);
    }

    @Test
    void theProxyAllowsAPresetsHostsOnTheirPortsAndNothingElse() {
        EgressPolicy policy = EgressPolicy.from(new ConfigFixture(dir)
                .user("allowed_hosts: [preset:github, preset:debian]\n").load().config(), false);
        assertTrue(policy.allows("codeload.github.com", 443));
        assertTrue(policy.allows("github.com", 22));
        assertFalse(policy.allows("api.github.com", 22), "only github.com gets ssh");
        assertTrue(policy.allows("deb.debian.org", 80));
        assertFalse(policy.allows("gist.github.com", 443), "a preset is exact names, no wildcard");
        assertFalse(policy.allows("evil.test", 443));
    }

    /** docs/network.md lists every preset with every host, in one table row each. */
    @Test
    void theNetworkDocListsEveryPresetsHosts() throws IOException {
        List<String> rows = Files.readAllLines(Path.of("docs/network.md")).stream()
                .filter(line -> line.startsWith("| `preset:")).toList();
        assertEquals(HostPresets.ALL.size(), rows.size(), rows.toString());
        for (HostPresets.Preset preset : HostPresets.ALL) {
            String row = rows.stream().filter(line -> line.startsWith("| `" + preset.entry() + "` |")).findFirst()
                    .orElseThrow(() -> new AssertionError("docs/network.md has no row for " + preset.entry()));
            // | `preset:npm` | `registry.npmjs.org`, `registry.yarnpkg.com` | what for |
            List<String> documented = Arrays.stream(row.split("\\|")[2].split(","))
                    .map(String::strip).map(cell -> cell.replace("`", "")).toList();
            assertEquals(preset.hosts(), documented, "docs/network.md on " + preset.entry());
        }
    }
}
