package dev.claudecage.security;

import dev.claudecage.json.Json;
import dev.claudecage.oci.Spec;
import dev.claudecage.testing.Golden;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The OCI form of the default profile, checked in so that every change to the filter shows in review. */
class SeccompGoldenTest {

    private static final Path GOLDEN = Path.of("oci/golden/seccomp-default.json");

    @Test
    void defaultPolicyOnAmd64MatchesTheGoldenFile() throws IOException {
        Spec.Seccomp generated = SeccompPolicy.defaultPolicy().toOci("amd64");
        String json = Json.write(generated);
        Golden.assertMatches(GOLDEN, json);
        assertEquals(generated, Json.read(Files.readString(GOLDEN), Spec.Seccomp.class));
    }

    @Test
    void theJarCarriesTheProfileFromTheSecurityFolder() {
        assertEquals(SeccompPolicy.load(Path.of("security/seccomp-default.json")), SeccompPolicy.defaultPolicy());
    }
}
