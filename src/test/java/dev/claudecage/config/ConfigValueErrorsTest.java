package dev.claudecage.config;

import dev.claudecage.UserInputException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each bad value names the key, the value, where it came from and what is allowed. */
class ConfigValueErrorsTest {

    @TempDir
    Path dir;

    private ConfigFixture fixture;
    private Path source;

    @BeforeEach
    void setUp() {
        fixture = new ConfigFixture(dir);
        source = fixture.directory("src");
    }

    static Stream<Arguments> badValues() {
        return Stream.of(
                bad("memory: 4q", "memory: '4q' is not a size", "use a whole number with a unit b, k, m, g or t"),
                bad("resolve: [api.test]", "resolve: 'api.test' is not NAME=ADDRESS", "use NAME=ADDRESS"),
                bad("resolve: ['api.test=somewhere']", "resolve: 'api.test=somewhere' has 'somewhere', which is not an IP address",
                        "use NAME=ADDRESS"),
                bad("resolve: ['*.test=10.0.0.1']", "resolve: '*.test=10.0.0.1' has '*.test', which is not a plain host name",
                        "use NAME=ADDRESS"),
                bad("insecure_registries: ['*.lan']", "insecure_registries: '*.lan' is a wildcard", "use HOST or HOST:PORT"),
                bad("insecure_registries: [registry.lan:70000]", "insecure_registries: 'registry.lan:70000' has port '70000'",
                        "loopback registries need no entry"),
                bad("insecure_registries: ['[fd00::1]:5000']", "insecure_registries: '[fd00::1]:5000' is an IPv6 address",
                        "use HOST or HOST:PORT"),
                bad("insecure_registries: ['https://registry.lan']", "insecure_registries: 'https://registry.lan' has port",
                        "use HOST or HOST:PORT"),
                bad("registry_mirrors: [docker.io]", "registry_mirrors: 'docker.io' is not REGISTRY=URL", "use REGISTRY=URL"),
                bad("registry_mirrors: ['docker.io=ftp://mirror.lan']", "registry_mirrors: 'docker.io=ftp://mirror.lan' has "
                        + "'ftp://mirror.lan', which is not an http or https URL", "use REGISTRY=URL"),
                bad("registry_mirrors: ['docker.io=https://user:pw@mirror.lan']", "has a path, credentials, a query or a "
                        + "fragment", "use REGISTRY=URL"),
                bad("registry_mirrors: ['docker.io=https://mirror.lan/v2/']", "has a path, credentials", "use REGISTRY=URL"),
                bad("registry_mirrors: ['*.io=https://mirror.lan']", "names the registry '*.io', which is not HOST or "
                        + "HOST:PORT", "use REGISTRY=URL"),
                bad("egress_limit: 10k", "egress_limit: '10k' is less than 1m", "at least 1m"),
                bad("max_connections: 0", "max_connections: '0' is less than 1", "at least 1"),
                bad("api_upstream: ftp://api.anthropic.com", "api_upstream: 'ftp://api.anthropic.com' is not an http or https URL",
                        "use an http or https URL"),
                bad("api_upstream: https://user:pw@api.anthropic.com", "carries credentials", "use an http or https URL"),
                bad("userns_pool: 1000:65536", "userns_pool: '1000:65536' starts below 65536", "claude-cage account"),
                bad("userns_pool: 1879048192:1000", "userns_pool: '1879048192:1000' has fewer than the 65536 ids",
                        "START:COUNT"),
                bad("userns_pool: 4294967000:65536", "goes past 4294967294", "START:COUNT"),
                bad("userns_pool: lots", "userns_pool: 'lots' is not START:COUNT", "off"),
                bad("network_pool: 8.8.0.0/16", "network_pool: '8.8.0.0/16' is not a private range", "10.0.0.0/8"),
                bad("network_pool: 10.213.0.1/16", "network_pool: '10.213.0.1/16' has host bits set after /16", "10.0.0.0/8"),
                bad("network_pool: 10.213.0.0/30", "network_pool: '10.213.0.0/30' is too small a pool", "no longer than /28"),
                bad("network_pool: fd00::/48", "network_pool: 'fd00::/48' is not an IPv4 prefix", "10.0.0.0/8"),
                bad("network_pool6: 2001:db8::/48", "network_pool6: '2001:db8::/48' is not a unique local (fc00::/7) prefix",
                        "fd63:6167:6500::/48"),
                bad("protected_paths: [/etc/passwd]", "protected_paths: '/etc/passwd' is absolute",
                        "relative to the workspace"),
                bad("protected_paths: ['../.bashrc']", "protected_paths: '../.bashrc' leaves the workspace with '..'",
                        "without '..'"),
                bad("protected_paths: ['.git/../hooks']", "leaves the workspace with '..'", "without '..'"),
                bad("protected_paths: ['./.envrc']", "is not normalized", "relative to the workspace"),
                bad("protected_paths: ['.git//config']", "is not normalized", "relative to the workspace"),
                bad("protected_paths: ['/']", "is empty", "relative to the workspace"),
                bad("protected_paths: [.envrc, .envrc]", "protected_paths: '.envrc' is listed twice", "relative"),
                bad("memory: 8m", "memory: '8m' is less than 16m", "at least 16m"),
                bad("memory:", "memory: '' is empty", "e.g. 512m or 4g"),
                bad("memory: {limit: 4g}", "memory: a mapping is not allowed here", "use a whole number with a unit"),
                bad("memory: !!binary NGc=", "memory: a value tagged tag:yaml.org,2002:binary is not allowed here",
                        "use a whole number with a unit"),
                bad("tmpfs_size: 512k", "tmpfs_size: '512k' is less than 1m", "at least 1m"),
                bad("cpus: -1", "cpus: '-1' is not above 0", "above 0 and at most 2 (this host's CPU count)"),
                bad("cpus: 64", "cpus: '64' is more than this host's 2 CPUs", "at most 2 (this host's CPU count)"),
                bad("cpus: lots", "cpus: 'lots' is not a number", "use a number of CPUs"),
                bad("mode: gui", "mode: 'gui' is not a mode", "use cli or desktop"),
                bad("network: open", "network: 'open' is not a network mode", "use none, filtered, host, or gateway:IPV4"),
                bad("persist: maybe", "persist: 'maybe' is not a boolean", "use true or false"),
                bad("read_only_root: 1", "read_only_root: '1' is not a boolean", "use true or false"),
                bad("max_sessions: [1]", "max_sessions: '[1]' is a list, not a single value", "use a whole number, at least 1"),
                bad("max_sessions: 0", "max_sessions: '0' is less than 1", "use a whole number, at least 1"),
                bad("max_sessions: 2.5", "max_sessions: '2.5' is not a whole number", "use a whole number"),
                bad("pids_limit: 8", "pids_limit: '8' is less than 16", "at least 16"),
                bad("dns: one.one.one.one", "dns: 'one.one.one.one' is not an IP address", "names are not resolved"),
                bad("dns: 1.1.1", "dns: '1.1.1' is not an IP address", "use the IP address of a DNS resolver"),
                bad("dns: '1::2::3'", "dns: '1::2::3' is not an IP address", "use the IP address of a DNS resolver"),
                bad("dns: 0.0.0.0", "dns: '0.0.0.0' is not the address of a single host", "use the IP address"),
                bad("allowed_hosts: '*'", "allowed_hosts: '*' allows every host", "wildcards such as *.example.com"),
                bad("allowed_hosts: ['*.com']", "allowed_hosts: '*.com' is overly broad", "wildcards such as *.example.com"),
                bad("allowed_hosts: [api.example.com, 10.0.0.1]", "allowed_hosts: '10.0.0.1' is an IP address",
                        "host names such as api.anthropic.com"),
                bad("allowed_hosts: ['[::1]:443']", "allowed_hosts: '[::1]:443' is an IP address", "host names"),
                bad("allowed_hosts: 'a.example.com,,b.example.com'", "allowed_hosts: '' is an empty entry",
                        "separated by commas"),
                bad("allowed_hosts: ['api.example.com:99999']", "has port '99999', not a number from 1 to 65535", ":PORT"),
                bad("allowed_hosts: ['foo*.example.com']", "has a '*' that is not the whole first label", "host names"),
                bad("allowed_hosts: [exa_mple.com]", "'exa_mple.com' is not a host name", "host names"),
                bad("seccomp_profile: profile.json", "seccomp_profile: 'profile.json' is neither default nor an absolute path",
                        "use default or the absolute path of an existing JSON seccomp profile"),
                bad("seccomp_profile: /nonexistent/profile.json", "'/nonexistent/profile.json' does not exist",
                        "existing JSON seccomp profile"),
                bad("user: 0", "user: '0' is root", "use a UID or UID:GID above 0"),
                bad("user: '1000:0'", "user: '1000:0' has group 0", "use a UID or UID:GID above 0"),
                bad("user: alice", "user: 'alice' is not UID or UID:GID", "e.g. 1000 or 1000:1000"),
                bad("image: Cli", "image: 'Cli' is not an image name", "lowercase letters, digits"),
                bad("runtime: docker", "runtime: 'docker' is not a supported runtime", "use runc, crun or runsc (gVisor)"),
                bad("rootfs: /nonexistent/rootfs", "rootfs: '/nonexistent/rootfs' does not exist", "an existing directory"),
                bad("mounts: ['/nonexistent/src:/work']",
                        "mounts: '/nonexistent/src:/work' has host path '/nonexistent/src', which does not exist",
                        "use HOST:CAGE[:ro|:rw] with an existing HOST path"),
                bad("mounts: ['{src}:/proc/self']", "'{src}:/proc/self' has a cage path '/proc/self' in /proc",
                        "outside /proc, /sys and /dev"),
                bad("mounts: ['{src}:/sys']", "'{src}:/sys' has a cage path '/sys' in /sys", "outside /proc, /sys and /dev"),
                bad("mounts: ['{src}:/dev/shm']", "'{src}:/dev/shm' has a cage path '/dev/shm' in /dev",
                        "outside /proc, /sys and /dev"),
                bad("mounts: ['{src}:work']", "'{src}:work' has a relative cage path 'work'", "an absolute, normalized CAGE path"),
                bad("mounts: ['{src}:/work/../etc']", "'{src}:/work/../etc' has a cage path '/work/../etc' that is not normalized",
                        "an absolute, normalized CAGE path"),
                bad("mounts: ['{src}:/']", "'{src}:/' has the cage's root '/' as its cage path", "absolute, normalized CAGE path"),
                bad("mounts: ['{src}:/work', '{src}:/work:ro']", "mounts: '{src}:/work:ro' mounts onto /work like an earlier entry",
                        "use HOST:CAGE[:ro|:rw]"),
                bad("mounts: ['{src}:/work:rx']", "'{src}:/work:rx' has mode 'rx', not ro or rw", "use HOST:CAGE[:ro|:rw]"),
                bad("mounts: [[a, b]]", "mounts: a list holding a list is not allowed here", "use HOST:CAGE[:ro|:rw]"),
                bad("env: [1A=x]", "env: '1A=x' is not KEY=VALUE", "does not start with a digit"),
                bad("env: [NOVALUE]", "env: 'NOVALUE' is not KEY=VALUE", "use KEY=VALUE"),
                bad("workdir: src", "workdir: 'src' is not an absolute path", "an absolute, normalized path in the cage"),
                bad("workdir: /workspace/../etc", "workdir: '/workspace/../etc' is not normalized", "e.g. /workspace/src"),
                bad("workdir: /workspace/", "workdir: '/workspace/' is not normalized", "e.g. /workspace/src"),
                bad("workdir: \"/work\\tspace\"", "holds a control character", "an absolute, normalized path"),
                bad("claude_config: copy", "claude_config: 'copy' is not a claude_config setting", "use inherit"));
    }

    private static Arguments bad(String yaml, String problem, String allowed) {
        return Arguments.of(yaml, problem, allowed);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badValues")
    void aBadValueInAFileIsReportedWithItsLineAndTheAllowedForm(String yaml, String problem, String allowed) {
        fixture.user("# line 1 is a comment, so the value is on line 2\n" + yaml.replace("{src}", source.toString()) + "\n");

        String message = fixture.loadError();

        assertTrue(message.contains(problem.replace("{src}", source.toString())), message);
        assertTrue(message.contains("(from " + fixture.userFile + ", line 2); "), message);
        assertTrue(message.contains(allowed), message);
    }

    @Test
    void theWholeMessageReadsAsOneSentence() {
        String message = fixture.user("mode: cli\n\nmemory: 4q\n").loadError();

        assertEquals("memory: '4q' is not a size (from " + fixture.userFile + ", line 3); use a whole number with"
                + " a unit b, k, m, g or t, e.g. 512m or 4g, at least 16m", message);
    }

    @Test
    void everyBadValueIsReportedAtOnce() {
        String message = fixture.user("memory: 4q\ncpus: -1\n").loadError();

        List<String> lines = message.lines().toList();
        assertEquals("2 configuration problems:", lines.get(0));
        assertTrue(lines.get(1).startsWith("  cpus: '-1' is not above 0"), message);
        assertTrue(lines.get(2).startsWith("  memory: '4q' is not a size"), message);
        assertEquals(3, lines.size(), message);
    }

    @Test
    void aCheckpointIntervalIsADurationOfTenSecondsOrMoreOrOff() {
        assertEquals("checkpoint_interval: 'often' is not a duration (from " + fixture.userFile + ", line 1); use a "
                + "duration of at least 10s (10m, 1h30m), or off (or 0) for no checkpoints but those taken with "
                + "claude-cage checkpoint", fixture.user("checkpoint_interval: often\n").loadError());
        assertTrue(fixture.user("checkpoint_interval: 5s\n").loadError().contains("'5s' is shorter than 10s"));
        assertEquals(java.time.Duration.ZERO, new ConfigFixture(dir).user("checkpoint_interval: off\n").load().config()
                .checkpointInterval());
        assertEquals(java.time.Duration.ofMinutes(90), new ConfigFixture(dir).user("checkpoint_interval: 1h30m\n").load()
                .config().checkpointInterval());
    }

    @Test
    void environmentValuesNameTheirVariable() {
        String message = fixture.env("CLAUDE_CAGE_CPUS", "-1").loadError();

        assertTrue(message.startsWith("cpus: '-1' is not above 0 (from environment CLAUDE_CAGE_CPUS); "), message);
    }

    @Test
    void flagValuesNameTheirFlag() {
        ConfigLoader loader = fixture.loader();

        String message = assertThrows(UserInputException.class,
                () -> loader.load(Map.of("mounts", List.of(source + ":/proc")))).getMessage();
        assertTrue(message.contains("(from flag --mount)"), message);
    }
}
