package dev.claudecage.image.registry;

import dev.claudecage.UserInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RegistryCredentialsTest {

    @TempDir
    Path dir;

    private static String auth(String userAndPassword) {
        return Base64.getEncoder().encodeToString(userAndPassword.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void theFirstFileWithAnEntryForTheRegistryWins() throws Exception {
        Path podman = Files.writeString(dir.resolve("auth.json"), "{\"auths\":{\"registry.lan:5000\":{\"auth\":\""
                + auth("bob:from-podman") + "\"}}}");
        Path docker = Files.writeString(dir.resolve("config.json"), "{\"auths\":{"
                + "\"https://index.docker.io/v1/\":{\"auth\":\"" + auth("alice:hub:pass") + "\"},"
                + "\"registry.lan:5000\":{\"username\":\"carol\",\"password\":\"from-docker\"}},"
                + "\"credsStore\":\"desktop\"}");
        List<Path> files = List.of(dir.resolve("missing.json"), podman, docker);

        assertEquals(Optional.of(new RegistryCredentials("bob", "from-podman", podman)),
                RegistryCredentials.find("registry.lan:5000", files));
        // Docker Hub's key in docker's file; a password may hold a colon.
        assertEquals(Optional.of(new RegistryCredentials("alice", "hub:pass", docker)),
                RegistryCredentials.find(ImageReference.DOCKER_HUB, files));
        assertEquals(Optional.empty(), RegistryCredentials.find("ghcr.io", files));
        assertFalse(new RegistryCredentials("alice", "hub:pass", docker).toString().contains("hub:pass"));
    }

    @Test
    void keysAreMatchedByHostAndPort() {
        assertTrue(RegistryCredentials.names("registry.lan:5000", "registry.lan:5000"));
        assertTrue(RegistryCredentials.names("https://registry.lan:5000/v2/", "registry.lan:5000"));
        assertTrue(RegistryCredentials.names("Registry.LAN:5000", "registry.lan:5000"));
        assertTrue(RegistryCredentials.names("registry-1.docker.io", ImageReference.DOCKER_HUB));
        assertFalse(RegistryCredentials.names("registry.lan", "registry.lan:5000"));
        assertFalse(RegistryCredentials.names("https://evil.test/registry.lan:5000", "registry.lan:5000"));
    }

    @Test
    void entriesThatCannotBeUsedAreRefusedWithAWayOut() throws Exception {
        Path identity = Files.writeString(dir.resolve("identity.json"),
                "{\"auths\":{\"ghcr.io\":{\"identitytoken\":\"oauth-refresh\"}}}");
        UserInputException e = assertThrows(UserInputException.class,
                () -> RegistryCredentials.find("ghcr.io", List.of(identity)));
        assertTrue(e.getMessage().contains("identity token") && e.hint().contains("REGISTRY_AUTH_FILE"), e.getMessage());

        Path broken = Files.writeString(dir.resolve("broken.json"), "{\"auths\":{\"ghcr.io\":{\"auth\":\""
                + auth("no-colon") + "\"}}}");
        assertThrows(UserInputException.class, () -> RegistryCredentials.find("ghcr.io", List.of(broken)));
        Path notJson = Files.writeString(dir.resolve("not.json"), "{");
        assertThrows(UserInputException.class, () -> RegistryCredentials.find("ghcr.io", List.of(notJson)));
    }

    @Test
    void theFilesAreLookedForWherePodmanAndDockerKeepThemInTheInvokingUsersHome() throws Exception {
        Path home = Path.of("/home/alice");
        assertEquals(List.of(Path.of("/tmp/auth.json"), Path.of("/run/user/1000/containers/auth.json"),
                        home.resolve(".config/containers/auth.json"), Path.of("/etc/docker-conf/config.json")),
                RegistryCredentials.authFiles(Map.of("REGISTRY_AUTH_FILE", "/tmp/auth.json",
                        "XDG_RUNTIME_DIR", "/run/user/1000", "DOCKER_CONFIG", "/etc/docker-conf"), home));
        assertEquals(List.of(home.resolve(".config/containers/auth.json"), home.resolve(".docker/config.json")),
                RegistryCredentials.authFiles(Map.of(), home));
    }
}
