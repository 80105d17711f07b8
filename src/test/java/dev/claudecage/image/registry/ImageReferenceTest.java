package dev.claudecage.image.registry;

import dev.claudecage.UserInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageReferenceTest {

    private static final String HEX = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    @ParameterizedTest
    @CsvSource({
            // text, registry, repository, tag, API host, local name
            "debian, docker.io, library/debian, latest, registry-1.docker.io, debian:latest",
            "debian:bookworm-slim, docker.io, library/debian, bookworm-slim, registry-1.docker.io, debian:bookworm-slim",
            "library/debian:12, docker.io, library/debian, 12, registry-1.docker.io, debian:12",
            "docker.io/library/debian:12, docker.io, library/debian, 12, registry-1.docker.io, debian:12",
            "index.docker.io/library/debian:12, docker.io, library/debian, 12, registry-1.docker.io, debian:12",
            "bitnami/redis:7, docker.io, bitnami/redis, 7, registry-1.docker.io, bitnami/redis:7",
            "ghcr.io/owner/tool:1.2, ghcr.io, owner/tool, 1.2, ghcr.io, ghcr.io/owner/tool:1.2",
            "localhost:5000/tools, localhost:5000, tools, latest, localhost:5000, localhost:5000/tools:latest",
            "localhost/tools:2, localhost, tools, 2, localhost, localhost/tools:2",
            "127.0.0.1:5000/it/base/deep:v1, 127.0.0.1:5000, it/base/deep, v1, 127.0.0.1:5000, 127.0.0.1:5000/it/base/deep:v1",
            // Without a dot, a port or "localhost", the first part is a Docker Hub namespace.
            "myhost/tools:3, docker.io, myhost/tools, 3, registry-1.docker.io, myhost/tools:3",
    })
    void readsReferencesAsDockerDoes(String text, String registry, String repository, String tag, String apiHost,
                                     String localName) {
        ImageReference reference = ImageReference.parse(text);
        assertEquals(registry, reference.registry());
        assertEquals(repository, reference.repository());
        assertEquals(tag, reference.tag());
        assertNull(reference.digest());
        assertEquals(apiHost, reference.apiHost());
        assertEquals(localName, reference.localName().toString());
        assertEquals(tag, reference.manifestReference());
    }

    @Test
    void aDigestDecidesWhatIsPulledAndNamesTheLocalCopy() {
        ImageReference reference = ImageReference.parse("127.0.0.1:5000/tools:1@sha256:" + HEX);
        assertEquals("sha256:" + HEX, reference.manifestReference());
        assertEquals("127.0.0.1:5000/tools:sha256-" + HEX, reference.localName().toString());
        assertEquals("127.0.0.1:5000/tools@sha256:" + HEX, reference.toString());
        assertEquals("127.0.0.1", reference.host());

        ImageReference hub = ImageReference.parse("debian@sha256:" + HEX);
        assertEquals("library/debian", hub.repository());
        assertEquals("debian:sha256-" + HEX, hub.localName().toString());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "debian@sha256:abc | has 'sha256:abc' where a sha256 digest belongs",
            "debian@md5:0123456789abcdef0123456789abcdef | where a sha256 digest belongs",
            "Debian:12 | is not a valid image name",
            "debian:tag/with/slash | is not a valid image name",
            "debian:-bad | is not a valid image tag",
            "localhost:5000/ | names no repository",
            "registry.example.com//x | is not a valid image name",
    })
    void refusesWhatDockerRefuses(String text, String problem) {
        UserInputException e = assertThrows(UserInputException.class, () -> ImageReference.parse(text));
        assertTrue(e.getMessage().contains(problem), e.getMessage());
    }
}
