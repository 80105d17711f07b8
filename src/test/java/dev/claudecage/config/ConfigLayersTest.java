package dev.claudecage.config;

import dev.claudecage.UserInputException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigLayersTest {

    static final EgressSettings DEFAULT_EGRESS = new EgressSettings(java.util.Map.of(), 1L << 30, 64,
            java.net.URI.create("https://api.anthropic.com"), "10.213.0.0/16", "fd63:6167:6500::/48",
            new CredentialSettings(List.of(), null, GitAccessRules.defaults(), false, List.of(), List.of(
                    Path.of(System.getProperty("user.home"), ".ssh/known_hosts"), Path.of("/etc/ssh/ssh_known_hosts"))),
            100L << 20, 60);


    @TempDir
    Path dir;

    private ConfigFixture fixture;

    @BeforeEach
    void setUp() {
        fixture = new ConfigFixture(dir);
    }

    @Test
    void withoutFilesEnvironmentOrFlagsTheBuiltInDefaultsApply() {
        EffectiveConfig effective = fixture.load();

        CageConfig expected = new CageConfig(Mode.CLI, true, 5, 2.0, 4L << 30, NetworkMode.FILTERED, "1.1.1.1",
                List.of("api.anthropic.com"), true, "default", 1024, 1000, 1000, "cli", "runc", null,
                List.of(), null, 1L << 30, List.of(), DEFAULT_EGRESS, List.of(),
                ProtectedPath.DEFAULTS.stream().map(ProtectedPath::parse).toList(), false, Map.of(), true, null, ClaudeConfig.INHERIT,
                UsernsPool.ACCOUNT);
        assertEquals(expected, effective.config());
        for (ConfigKey key : ConfigKey.values()) {
            assertEquals(ConfigLoader.BUILT_IN_DEFAULT, effective.origin(key), key.yamlName());
        }
    }

    @Test
    void systemFileOverridesTheDefaults() {
        EffectiveConfig effective = fixture.system("memory: 2g\n").load();

        assertEquals(2L << 30, effective.config().memoryBytes());
        assertEquals(fixture.systemFile.toString(), effective.origin(ConfigKey.MEMORY));
        assertEquals(ConfigLoader.BUILT_IN_DEFAULT, effective.origin(ConfigKey.CPUS));
    }

    @Test
    void userFileOverridesTheSystemFile() {
        EffectiveConfig effective = fixture.system("memory: 2g\npids_limit: 512\n").user("memory: 1g\n").load();

        assertEquals(1L << 30, effective.config().memoryBytes());
        assertEquals(fixture.userFile.toString(), effective.origin(ConfigKey.MEMORY));
        assertEquals(512, effective.config().pidsLimit());
        assertEquals(fixture.systemFile.toString(), effective.origin(ConfigKey.PIDS_LIMIT));
    }

    @Test
    void environmentOverridesTheUserFile() {
        EffectiveConfig effective = fixture.user("memory: 1g\n").env("CLAUDE_CAGE_MEMORY", "768m").load();

        assertEquals(768L << 20, effective.config().memoryBytes());
        assertEquals("environment CLAUDE_CAGE_MEMORY", effective.origin(ConfigKey.MEMORY));
    }

    @Test
    void flagsOverrideTheEnvironment() {
        EffectiveConfig effective = fixture.env("CLAUDE_CAGE_MEMORY", "768m").env("CLAUDE_CAGE_MAX_SESSIONS", "2")
                .loader().load(Map.of("memory", "512m"));

        assertEquals(512L << 20, effective.config().memoryBytes());
        assertEquals("flag --memory", effective.origin(ConfigKey.MEMORY));
        assertEquals(2, effective.config().maxSessions());
        assertEquals("environment CLAUDE_CAGE_MAX_SESSIONS", effective.origin(ConfigKey.MAX_SESSIONS));
    }

    @Test
    void aLaterLayerReplacesAWholeListInsteadOfMergingIt() {
        fixture.system("allowed_hosts: [a.example.com, b.example.com]\n").user("allowed_hosts:\n  - c.example.com\n");
        assertEquals(List.of("c.example.com"), fixture.load().config().allowedHosts());

        fixture.env("CLAUDE_CAGE_ALLOWED_HOSTS", "d.example.com, *.e.example.com:8443");
        assertEquals(List.of("d.example.com", "*.e.example.com:8443"), fixture.load().config().allowedHosts());

        EffectiveConfig flagged = fixture.loader().load(Map.of("allowed_hosts", List.of("f.example.com")));
        assertEquals(List.of("f.example.com"), flagged.config().allowedHosts());
        assertEquals("flag --allowed-host", flagged.origin(ConfigKey.ALLOWED_HOSTS));
    }

    @Test
    void anEmptyEnvironmentListClearsTheList() {
        EffectiveConfig effective = fixture.env("CLAUDE_CAGE_ALLOWED_HOSTS", "").load();

        assertEquals(List.of(), effective.config().allowedHosts());
    }

    @Test
    void protectedPathsKeepWhetherTheyNameAFolder() {
        EffectiveConfig effective = fixture.user("protected_paths: [.envrc, 'tools/hooks/', .git/config]\n").load();

        assertEquals(List.of(new ProtectedPath(".envrc", false), new ProtectedPath("tools/hooks", true),
                new ProtectedPath(".git/config", false)), effective.config().protectedPaths());
        assertEquals(List.of(".envrc", "tools/hooks/", ".git/config"),
                effective.config().yamlValues().get("protected_paths"));
    }

    @Test
    void aCommaSeparatedStringInAFileIsAList() {
        EffectiveConfig effective = fixture.user("allowed_hosts: api.anthropic.com,cdn.anthropic.com\n").load();

        assertEquals(List.of("api.anthropic.com", "cdn.anthropic.com"), effective.config().allowedHosts());
    }

    @Test
    void everyKeyCanBeSetInAFile() {
        Path project = fixture.directory("project");
        Path rootfs = fixture.directory("rootfs");
        Path profile = fixture.dir.resolve("seccomp.json");
        ConfigFixture.write(profile, "{}");
        fixture.user(String.join("\n",
                "mode: desktop",
                "persist: false",
                "max_sessions: 3",
                "cpus: 1.5",
                "memory: 6gb",
                "network: none",
                "dns: 2606:4700:4700::1111",
                "allowed_hosts: ['*.Example.com:443']",
                "read_only_root: false",
                "seccomp_profile: " + profile,
                "pids_limit: 256",
                "user: 1001:1002",
                "image: my-image.v2",
                "runtime: crun",
                "rootfs: " + rootfs,
                "mounts: ['" + project + ":/work:ro']",
                "tmpfs_size: 256m",
                "env: [EDITOR=vi, EMPTY=]",
                "insecure_registries: [Registry.LAN:5000, 192.168.1.20]",
                "userns_pool: 1879048192:6553600",
                ""));

        CageConfig expected = new CageConfig(Mode.DESKTOP, false, 3, 1.5, 6L << 30, NetworkMode.NONE,
                "2606:4700:4700::1111", List.of("*.example.com:443"), false, profile.toString(), 256, 1001, 1002,
                "my-image.v2", "crun", rootfs, List.of(new MountSpec(project, "/work", true)), null, 256L << 20,
                List.of("EDITOR=vi", "EMPTY="), DEFAULT_EGRESS, List.of("registry.lan:5000", "192.168.1.20"),
                ProtectedPath.DEFAULTS.stream().map(ProtectedPath::parse).toList(), false, Map.of(), true, null, ClaudeConfig.INHERIT,
                UsernsPool.range(1_879_048_192L, 6_553_600L));
        assertEquals(expected, fixture.load().config());
        fixture.user("userns_pool: off\n");
        assertEquals(UsernsPool.OFF, fixture.load().config().usernsPool());
    }

    @Test
    void aUserWithoutGroupGetsTheSameGroupId() {
        CageConfig config = fixture.user("user: 1234\n").load().config();

        assertEquals(1234, config.uid());
        assertEquals(1234, config.gid());
    }

    @Test
    void relativeHostPathsStartFromTheWorkingDirectoryAndAreMadeReal() throws Exception {
        Path data = fixture.directory("data");
        Files.createSymbolicLink(dir.resolve("link"), data);

        CageConfig config = fixture.user("mounts: ['link:/data:ro', 'data/../data:/data2']\nrootfs: data\n")
                .load().config();

        assertEquals(List.of(new MountSpec(data, "/data", true), new MountSpec(data, "/data2", false)),
                config.mounts());
        assertEquals(data, config.rootfs());
    }

    @Test
    void anEmptyRootfsMeansTheImage() {
        assertEquals(null, fixture.user("rootfs: ''\n").load().config().rootfs());
    }

    @Test
    void theDefaultCpuCountShrinksToFitASmallerHostButAUserValueDoesNot() {
        assertEquals(1.0, fixture.cpus(1).load().config().cpus());

        String message = fixture.user("cpus: 2\n").loadError();
        assertTrue(message.contains("cpus: '2' is more than this host's 1 CPUs"), message);
    }

    @Test
    void reservedEnvironmentVariablesAreNotConfigKeys() {
        fixture.env("CLAUDE_CAGE_DEBUG", "1").env("CLAUDE_CAGE_JAVA_OPTS", "-Xmx64m").env("CLAUDE_CAGE_JAR", "/x.jar");

        assertEquals(Mode.CLI, fixture.load().config().mode());
    }

    @Test
    void aDirectoryInPlaceOfAFileIsAnError() throws Exception {
        Files.createDirectories(fixture.userFile);

        String message = fixture.loadError();
        assertTrue(message.startsWith("cannot read " + fixture.userFile + ": "), message);
    }

    @Test
    void theUserFileFollowsXdgConfigHome() {
        assertEquals(Path.of("/xdg/claude-cage/config.yaml"),
                ConfigLoader.userFile(Map.of("XDG_CONFIG_HOME", "/xdg", "HOME", "/home/u")));
        assertEquals(Path.of("/home/u/.config/claude-cage/config.yaml"),
                ConfigLoader.userFile(Map.of("HOME", "/home/u")));
        // The XDG spec says a relative value is invalid and must be ignored.
        assertEquals(Path.of("/home/u/.config/claude-cage/config.yaml"),
                ConfigLoader.userFile(Map.of("XDG_CONFIG_HOME", "relative", "HOME", "/home/u")));
    }

    @Test
    void validateFileChecksOneFileOverTheDefaults() {
        fixture.system("memory: 4q\n").user("memory: 1g\n");

        fixture.loader().validateFile(fixture.userFile);
        UserInputException e = assertThrows(UserInputException.class,
                () -> fixture.loader().validateFile(fixture.systemFile));
        assertTrue(e.getMessage().contains("memory: '4q' is not a size"), e.getMessage());
    }

    @Test
    void validateFileRefusesAMissingFile() {
        Path missing = dir.resolve("missing.yaml");

        UserInputException e = assertThrows(UserInputException.class, () -> fixture.loader().validateFile(missing));
        assertEquals(missing + " does not exist", e.getMessage());
    }

    @Test
    void yamlValuesWriteEachKeyAsAConfigFileWould() {
        Map<String, Object> values = fixture.load().config().yamlValues();

        assertEquals(List.of(ConfigKey.values()).stream().map(ConfigKey::yamlName).toList(),
                List.copyOf(values.keySet()));
        assertEquals("4g", values.get("memory"));
        assertEquals("1000:1000", values.get("user"));
        assertEquals("2", values.get("cpus").toString());
        assertEquals(null, values.get("rootfs"));
    }

    @org.junit.jupiter.api.Test
    void resolveEntriesGroupAddressesByNameInOrder(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        ConfigFixture fixture = new ConfigFixture(dir);
        EffectiveConfig effective = fixture.loader().load(java.util.Map.of("resolve",
                List.of("API.test=10.213.200.2", "api.test=fd63:6167:6500:c8::2", "canary.test=10.213.201.2")));
        assertEquals(java.util.Map.of("api.test", List.of("10.213.200.2", "fd63:6167:6500:c8::2"),
                "canary.test", List.of("10.213.201.2")), effective.config().egress().resolve());
        assertEquals(List.of("api.test=10.213.200.2", "api.test=fd63:6167:6500:c8::2", "canary.test=10.213.201.2"),
                effective.config().yamlValues().get("resolve"));
        assertEquals("flag --resolve", effective.origins().get("resolve"));
    }

    @Test
    void registryMirrorsKeepTheirOrderPerRegistry() {
        fixture.user("registry_mirrors: ['docker.io=https://Mirror.example', 'ghcr.io=https://ghcr-mirror.example:8443', "
                + "'docker.io=http://127.0.0.1:5000/']\n");
        CageConfig config = fixture.load().config();
        assertEquals(Map.of("docker.io", List.of(java.net.URI.create("https://mirror.example"),
                        java.net.URI.create("http://127.0.0.1:5000")),
                "ghcr.io", List.of(java.net.URI.create("https://ghcr-mirror.example:8443"))), config.registryMirrors());
        assertEquals(List.of("docker.io=https://mirror.example", "docker.io=http://127.0.0.1:5000",
                "ghcr.io=https://ghcr-mirror.example:8443"), config.yamlValues().get("registry_mirrors"));
    }
}
