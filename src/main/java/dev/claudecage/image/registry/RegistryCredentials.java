package dev.claudecage.image.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.claudecage.UserInputException;
import dev.claudecage.json.Json;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A user name and password (or access token) for one registry, as {@code podman login} and
 * {@code docker login} keep them: an {@code auths} entry with {@code auth} (base64 of
 * USER:PASSWORD) or {@code username} and {@code password}. Read from the first of these files that
 * has an entry for the registry: {@code $REGISTRY_AUTH_FILE}, podman's
 * {@code $XDG_RUNTIME_DIR/containers/auth.json} and {@code ~/.config/containers/auth.json}, then
 * docker's {@code $DOCKER_CONFIG/config.json} or {@code ~/.docker/config.json}; under sudo, the home
 * is the invoking user's. Credential helpers (credsStore, credHelpers) are not called: they are
 * programs, and a pull should not run one as root.
 *
 * @param source the file they came from, for messages (the secret itself is never printed)
 */
public record RegistryCredentials(String username, String secret, Path source) {

    /** Docker Hub's names in auth files, beside docker.io itself. */
    private static final List<String> DOCKER_HUB_KEYS = List.of("index.docker.io", "registry-1.docker.io");

    public RegistryCredentials {
        if (username.isEmpty() || secret.isEmpty()) {
            throw new IllegalArgumentException("registry credentials need a user name and a password");
        }
    }

    /** The value of an {@code Authorization} header for HTTP Basic authentication. */
    String basicAuthorization() {
        return "Basic " + Base64.getEncoder().encodeToString((username + ":" + secret).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String toString() {
        return "credentials of " + username + " from " + source;
    }

    /** The auth files looked at, in order, for a process with this environment. */
    public static List<Path> authFiles(Map<String, String> env, Path home) {
        List<Path> files = new ArrayList<>();
        Optional.ofNullable(env.get("REGISTRY_AUTH_FILE")).filter(value -> !value.isBlank()).map(Path::of).ifPresent(files::add);
        Optional.ofNullable(env.get("XDG_RUNTIME_DIR")).filter(value -> !value.isBlank())
                .map(dir -> Path.of(dir, "containers", "auth.json")).ifPresent(files::add);
        files.add(home.resolve(".config/containers/auth.json"));
        files.add(Optional.ofNullable(env.get("DOCKER_CONFIG")).filter(value -> !value.isBlank())
                .map(dir -> Path.of(dir, "config.json")).orElse(home.resolve(".docker/config.json")));
        return files;
    }

    /** The credentials for {@code registry} (host[:port], docker.io for Docker Hub) in the first file that has them. */
    public static Optional<RegistryCredentials> find(String registry, List<Path> files) {
        return files.stream().map(file -> fromFile(registry, file)).flatMap(Optional::stream).findFirst();
    }

    static Optional<RegistryCredentials> fromFile(String registry, Path file) {
        JsonNode auths;
        try {
            auths = Json.mapper().readTree(Files.readString(file)).path("auths");
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UserInputException("cannot read the registry auth file " + file + ": " + e.getMessage(),
                    "fix or remove it (it is where podman login and docker login keep credentials)");
        }
        for (Map.Entry<String, JsonNode> entry : auths.properties()) {
            if (names(entry.getKey(), registry)) {
                return Optional.of(credentials(entry.getValue(), registry, file));
            }
        }
        return Optional.empty();
    }

    /** Whether an auths key ("host:port", "https://host/v1/") names {@code registry}. */
    static boolean names(String key, String registry) {
        String host = key.contains("://") ? authority(key) : key.replaceFirst("/.*$", "");
        host = host.toLowerCase(Locale.ROOT);
        String wanted = registry.toLowerCase(Locale.ROOT);
        return host.equals(wanted) || (wanted.equals(ImageReference.DOCKER_HUB) && DOCKER_HUB_KEYS.contains(host));
    }

    private static String authority(String url) {
        try {
            String authority = URI.create(url).getRawAuthority();
            return authority == null ? "" : authority;
        } catch (IllegalArgumentException e) {
            return "";
        }
    }

    private static RegistryCredentials credentials(JsonNode entry, String registry, Path file) {
        if (entry.hasNonNull("identitytoken") && !entry.path("identitytoken").asText().isEmpty()) {
            throw new UserInputException("the credentials for " + registry + " in " + file + " are an identity token "
                    + "(OAuth2), which claude-cage does not exchange", "log in with a user name and a password or "
                    + "access token (podman login --authfile FILE " + registry + ") and point REGISTRY_AUTH_FILE at FILE");
        }
        String username = entry.path("username").asText("");
        String password = entry.path("password").asText("");
        String auth = entry.path("auth").asText("");
        if (!auth.isEmpty()) {
            String decoded;
            try {
                decoded = new String(Base64.getDecoder().decode(auth.strip()), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw new UserInputException("the auth entry for " + registry + " in " + file + " is not base64",
                        "log in again (podman login or docker login)");
            }
            int colon = decoded.indexOf(':');
            if (colon <= 0) {
                throw new UserInputException("the auth entry for " + registry + " in " + file + " is not USER:PASSWORD",
                        "log in again (podman login or docker login)");
            }
            username = decoded.substring(0, colon);
            password = decoded.substring(colon + 1);
        }
        if (username.isEmpty() || password.isEmpty()) {
            throw new UserInputException("the entry for " + registry + " in " + file + " has no user name and password",
                    "log in again (podman login or docker login)");
        }
        return new RegistryCredentials(username, password, file);
    }
}
