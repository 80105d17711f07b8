package dev.claudecage.image.store;

import com.fasterxml.jackson.databind.JsonNode;
import dev.claudecage.UserInputException;
import dev.claudecage.json.Json;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Index (manifest list) selection: linux on this host's architecture, whatever order the index has. */
class HostPlatformTest {

    private static final String HOST = Architecture.host();
    private static final String OTHER = HOST.equals("amd64") ? "arm64" : "amd64";

    private static JsonNode index(String... entries) throws Exception {
        return Json.mapper().readTree("{\"schemaVersion\": 2, \"manifests\": [" + String.join(",", entries) + "]}");
    }

    private static String entry(String digestLetter, String os, String architecture, String variant) {
        return "{\"mediaType\": \"application/vnd.oci.image.manifest.v1+json\", \"digest\": \"sha256:"
                + digestLetter.repeat(64) + "\", \"size\": 100, \"platform\": {\"os\": \"" + os + "\", \"architecture\": \""
                + architecture + "\"" + (variant == null ? "" : ", \"variant\": \"" + variant + "\"") + "}}";
    }

    private static List<String> digests(List<JsonNode> chosen) {
        return chosen.stream().map(node -> node.path("digest").asText().substring(7, 8)).toList();
    }

    @Test
    void picksLinuxOnThisArchitectureOutOfAMultiArchIndex() throws Exception {
        JsonNode index = index(entry("a", "linux", OTHER, "v8"), entry("b", "windows", HOST, null),
                entry("c", "linux", HOST, null), entry("d", "linux", "s390x", null));
        assertEquals(List.of("c"), digests(HostPlatform.manifests(index, "the image")));
    }

    @Test
    void keepsTheIndexOrderWhenSeveralFitAndTakesEntriesWithoutAPlatform() throws Exception {
        JsonNode index = index("{\"digest\": \"sha256:" + "e".repeat(64) + "\"}", entry("f", "linux", HOST, null));
        assertEquals(List.of("e", "f"), digests(HostPlatform.manifests(index, "the image")));
    }

    @Test
    void anIndexWithoutThisPlatformNamesThePlatformsItHas() throws Exception {
        JsonNode index = index(entry("a", "linux", OTHER, "v8"), entry("b", "linux", "ppc64le", null),
                "{\"digest\": \"sha256:" + "c".repeat(64) + "\", \"platform\": {\"os\": \"unknown\", \"architecture\": "
                        + "\"unknown\"}}");
        UserInputException e = assertThrows(UserInputException.class, () -> HostPlatform.manifests(index, "the image"));
        assertEquals("the image has no manifest for linux/" + HOST + " (it has [linux/" + OTHER + "/v8, linux/ppc64le, "
                + "unknown/unknown])", e.getMessage());
    }

    @Test
    void anEmptyIndexHasNothingToOffer() throws Exception {
        UserInputException e = assertThrows(UserInputException.class, () -> HostPlatform.manifests(index(), "the image"));
        assertEquals("the image has no manifest for linux/" + HOST + " (it has [])", e.getMessage());
    }
}
