package dev.claudecage.session;

import dev.claudecage.config.CageConfig;
import dev.claudecage.config.ClaudeConfig;
import dev.claudecage.config.EgressSettings;
import dev.claudecage.config.Mode;
import dev.claudecage.config.NetworkMode;
import dev.claudecage.config.ProtectedPath;
import dev.claudecage.config.UsernsPool;
import dev.claudecage.runtime.CagePolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SessionPolicyTest {

    private static CageConfig config(List<String> allowedHosts) {
        return new CageConfig(Mode.CLI, true, 5, 2, 1L << 30, NetworkMode.FILTERED, "1.1.1.1", allowedHosts, true,
                "default", 1024, 1000, 1000, "cli", "runc", null, List.of(), null, 1L << 30, List.of(),
                new EgressSettings(Map.of(), 1L << 30, 64, URI.create("https://api.anthropic.com"), "10.213.0.0/16",
                        "fd63:6167:6500::/48"), List.of(),
                List.of(ProtectedPath.parse(".envrc")), false, Map.of(), true, null, ClaudeConfig.INHERIT,
                UsernsPool.ACCOUNT);
    }

    @Test
    void theHashNamesThePolicyNotTheRun() {
        List<String> mounts = List.of("/src:/workspace:rw", "/src/.envrc:/workspace/.envrc:ro (protected)");
        SessionPolicy first = SessionPolicy.of("s-a-000000000001", "2026-11-28T10:00:00Z",
                CagePolicy.of(config(List.of("api.anthropic.com")), "sha256:abc", mounts));
        SessionPolicy again = SessionPolicy.of("s-a-000000000002", "2026-11-28T11:00:00Z",
                CagePolicy.of(config(List.of("api.anthropic.com")), "sha256:abc", mounts));
        SessionPolicy wider = SessionPolicy.of("s-a-000000000003", "2026-11-28T12:00:00Z",
                CagePolicy.of(config(List.of("api.anthropic.com", "github.com")), "sha256:abc", mounts));

        assertTrue(first.sha256().matches("[0-9a-f]{64}"));
        assertEquals(first.sha256(), again.sha256(), "the same policy in another run");
        assertNotEquals(first.sha256(), wider.sha256(), "one more allowed host");
        assertEquals(List.of(".envrc"), first.policy().protectedPaths());
        assertEquals("cli", first.policy().image());
    }

    @Test
    void aChangedFileNoLongerMatchesItsHash(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("policy.json");
        SessionPolicy.of("s-a-000000000001", "2026-11-28T10:00:00Z", CagePolicy.of(
                config(List.of("api.anthropic.com")), null, List.of())).write(file);
        assertTrue(SessionPolicy.read(file).orElseThrow().intact());
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(file)));

        Files.writeString(file, Files.readString(file).replace("api.anthropic.com", "evil.example"));

        assertFalse(SessionPolicy.read(file).orElseThrow().intact());
        assertTrue(SessionPolicy.read(dir.resolve("absent.json")).isEmpty());
    }

    /** The supervisor writes the policy without the object mapper: the mapper's bytes, for what a host and a user can put in it. */
    @Test
    void thePolicyIsWrittenAsTheMapperWritesIt(@TempDir Path dir) throws Exception {
        String hostile = "evil\u001b]0;owned\u0007\u007f\u009b2J\u202egnp\u00e9\"\\\uD83D\uDE00" + "x".repeat(70_000);
        SessionPolicy policy = SessionPolicy.of("s-a-000000000001", "2026-11-28T10:00:00.123Z", CagePolicy.of(
                config(List.of("api.anthropic.com", hostile)), "sha256:abc", List.of("/src/" + hostile + ":/workspace:rw")));
        Path file = dir.resolve("policy.json");

        policy.write(file);

        assertEquals(dev.claudecage.json.Json.write(policy), Files.readString(file));
        assertTrue(Files.readString(file).contains("\"config\" : {"), "the positive control: the configuration is in it");
        assertTrue(SessionPolicy.read(file).orElseThrow().intact());
    }
}
