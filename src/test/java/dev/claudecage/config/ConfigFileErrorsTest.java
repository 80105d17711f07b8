package dev.claudecage.config;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Files that are not a mapping of known keys, and CLAUDE_CAGE_* variables that are not keys. */
class ConfigFileErrorsTest {

    @TempDir
    Path dir;

    private ConfigFixture fixture;

    @BeforeEach
    void setUp() {
        fixture = new ConfigFixture(dir);
    }

    @Test
    void aMisspeltKeyGetsADidYouMean() {
        String message = fixture.user("cpus: 1\nmemroy: 4g\n").loadError();

        assertEquals("unknown key 'memroy' in " + fixture.userFile + " (line 2); did you mean 'memory'?", message);
    }

    @Test
    void aKeyThatStartsLikeAKnownOneGetsADidYouMean() {
        String message = fixture.system("allowed: api.anthropic.com\n").loadError();

        assertTrue(message.endsWith("did you mean 'allowed_hosts'?"), message);
    }

    @Test
    void anUnrelatedKeyGetsTheListOfKeys() {
        String message = fixture.user("colour: blue\n").loadError();

        assertEquals("unknown key 'colour' in " + fixture.userFile + " (line 1); the keys are mode, persist, claude_config, "
                + "max_sessions, cpus, memory, network, dns, allowed_hosts, read_only_root, seccomp_profile, "
                + "pids_limit, user, image, runtime, runsc_platform, rootfs, mounts, mount_owner, tmpfs_size, env, workdir, resolve, egress_limit, "
                + "max_connections, audit_log_limit, wildcard_names_per_minute, api_upstream, network_pool, network_pool6, "
                + "insecure_registries, registry_mirrors, protected_paths, "
                + "git_credentials, git_ca_certificates, git_fetch_repositories, git_push_repositories, git_push_refs, "
                + "git_push_force_refs, ssh_agent, ssh_agent_hosts, ssh_known_hosts, allow_unlimited, "
                + "healthcheck, checkpoint_interval, userns_pool", message);
    }

    @Test
    void malformedYamlNamesTheFileLineAndColumnOnOneLine() {
        String message = fixture.user("mode: cli\nmemory: 4g\ncpus: [1, 2\n").loadError();

        assertTrue(message.startsWith("malformed YAML in " + fixture.userFile + " (line 4, column 1): "), message);
        assertEquals(1, message.lines().count(), message);
    }

    @Test
    void aNestedMappingInAPlainLineIsMalformed() {
        String message = fixture.user("mode: cli\nmemory: 4g: 2g\n").loadError();

        assertEquals("malformed YAML in " + fixture.userFile + " (line 2, column 11): "
                + "mapping values are not allowed here", message);
    }

    @Test
    void theTopLevelMustBeAMapping() {
        String message = fixture.user("- memory: 4g\n").loadError();

        assertTrue(message.startsWith("the top level of " + fixture.userFile + " (line 1) is a list, not a mapping"),
                message);
    }

    @Test
    void aKeyWrittenTwiceIsAnError() {
        String message = fixture.user("memory: 4g\ncpus: 1\nmemory: 2g\n").loadError();

        assertEquals("key 'memory' appears twice in " + fixture.userFile + " (lines 1 and 3); keep one", message);
    }

    @Test
    void anEmptyFileSetsNothing() {
        assertEquals(ConfigLoader.BUILT_IN_DEFAULT, fixture.user("# nothing yet\n").load().origin(ConfigKey.MEMORY));
    }

    @Test
    void aFileThatIsNotUtf8IsAnError() throws Exception {
        Files.createDirectories(fixture.userFile.getParent());
        Files.write(fixture.userFile, new byte[] {'m', 'o', 'd', 'e', ':', ' ', (byte) 0xff, '\n'});

        assertEquals("cannot read " + fixture.userFile + ": it is not UTF-8 text", fixture.loadError());
    }

    @Test
    void aMisspeltEnvironmentVariableGetsADidYouMean() {
        String message = fixture.env("CLAUDE_CAGE_MEMROY", "4g").loadError();

        assertEquals("unknown environment variable CLAUDE_CAGE_MEMROY; did you mean CLAUDE_CAGE_MEMORY?", message);
    }

    @Test
    void anUnrelatedEnvironmentVariableGetsTheListOfVariables() {
        String message = fixture.env("CLAUDE_CAGE_COLOUR", "blue").loadError();

        assertTrue(message.startsWith("unknown environment variable CLAUDE_CAGE_COLOUR; claude-cage reads "
                + "CLAUDE_CAGE_MODE, "), message);
        assertTrue(message.endsWith("CLAUDE_CAGE_DEBUG, CLAUDE_CAGE_JAR, CLAUDE_CAGE_JAVA_OPTS"), message);
    }
}
