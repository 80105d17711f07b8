package dev.claudecage.session;

import dev.claudecage.json.Json;
import dev.claudecage.runtime.CagePolicy;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The streaming reader of policy.json reads what Jackson's object mapper read and refuses what it refused, and
 * the policy's hash is still the hash of the mapper's text: a session recorded before stays intact.
 */
class SessionPolicyReaderTest {

    private static List<CagePolicy> policies() {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("memory", "4g");
        config.put("cpus", 2);
        config.put("persist", true);
        config.put("read_only_root", false);
        config.put("allowed_hosts", List.of("api.anthropic.com", "preset:npm"));
        config.put("mounts", List.of());
        config.put("tmpfs_size", 12345678901L);
        config.put("ratio", 2.5);
        config.put("huge", new BigInteger("123456789012345678901234567890"));
        config.put("absent", null);
        Map<String, Object> nested = new HashMap<>();
        nested.put("zeta", List.of(1, "two", Map.of("b", 1, "a", 2)));
        nested.put("alpha", null);
        nested.put("list with a null", new ArrayList<>(Arrays.asList("x", null)));
        config.put("git", nested);
        config.put("env", List.of("NAME=\"quoted\" \\ \u00e9 \u0001 \u007f \u202e \ud83d\ude00"));
        return List.of(
                new CagePolicy("cli", "sha256:" + "a".repeat(64), null, config, List.of("api.anthropic.com"),
                        List.of("/src:/workspace:rw", "/src/.envrc:/workspace/.envrc:ro (protected)"), List.of(".envrc")),
                new CagePolicy(null, null, "/var/cache/rootfs", Map.of(), List.of(), List.of(), List.of()));
    }

    @Test
    void theHashIsTheHashOfTheMappersText() throws Exception {
        for (CagePolicy policy : policies()) {
            String mappers = Json.write(policy);
            assertEquals(mappers, Json.writeTree(Json.read(Json.write(Map.of("p", policy)), Map.class).get("p")),
                    "the tree writer writes the mapper's text");
            assertEquals(HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(mappers.getBytes(java.nio.charset.StandardCharsets.UTF_8))), policy.sha256(), mappers);
        }
    }

    @Test
    void readsAPolicyAsTheMapperDoesAndFindsItIntact() throws IOException {
        for (CagePolicy policy : policies()) {
            String json = Json.write(SessionPolicy.of("s-a-000000000001", "2026-12-07T21:00:00Z", policy));
            SessionPolicy read = SessionPolicyReader.read(json);
            assertEquals(Json.read(json, SessionPolicy.class), read, json);
            assertEquals(true, read.intact(), json);
        }
    }

    @Test
    void aChangedPolicyIsNoLongerIntact() throws IOException {
        String json = Json.write(SessionPolicy.of("s-a-000000000001", "2026-12-07T21:00:00Z", policies().get(0)));
        SessionPolicy changed = SessionPolicyReader.read(json.replace("api.anthropic.com\" ]", "evil.example\" ]"));

        assertEquals(List.of("evil.example"), changed.policy().allowedHosts(), "the positive control: the edit was read");
        assertEquals(false, changed.intact());
    }

    @Test
    void refusesWhatTheMapperRefused() {
        String lists = "\"allowedHosts\":[],\"mounts\":[],\"protectedPaths\":[]";
        List<String> refused = List.of(
                "",
                "[]",
                "{\"policy\":{\"config\":{}," + lists + "},\"surprise\":1}",
                "{\"policy\":{\"config\":{}," + lists + ",\"surprise\":1}}",
                "{\"policy\":{" + lists + "}}",
                "{\"policy\":{\"config\":{},\"allowedHosts\":[],\"mounts\":[]}}",
                "{\"policy\":{\"config\":[]," + lists + "}}",
                "{\"policy\":{\"config\":{},\"allowedHosts\":{},\"mounts\":[],\"protectedPaths\":[]}}",
                "{\"policy\":{\"config\":{}," + lists + "},\"sha256\":[]}",
                "{\"policy\":{\"config\":{}," + lists + "}");
        for (String json : refused) {
            assertThrows(UncheckedIOException.class, () -> Json.read(json, SessionPolicy.class), "the mapper: " + json);
            assertThrows(IOException.class, () -> SessionPolicyReader.read(json), "the reader: " + json);
        }
    }
}
