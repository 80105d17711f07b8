package dev.claudecage.image.registry;

import dev.claudecage.UserInputException;
import dev.claudecage.image.store.Digest;
import dev.claudecage.image.store.ImageName;

import java.util.regex.Pattern;

/**
 * What to pull: {@code [REGISTRY/]REPOSITORY[:TAG][@sha256:HEX]}, read as Docker reads it. The
 * first part is a registry when it has a dot or a port or is {@code localhost}; otherwise the
 * registry is Docker Hub, whose single-word repositories live under {@code library/}, and the tag
 * defaults to {@code latest}. A digest, when given, decides what is pulled; the tag is then only
 * a reminder.
 *
 * @param registry   the registry's host[:port] as written ({@code docker.io} for Docker Hub)
 * @param repository the repository path on that registry ({@code library/debian})
 * @param digest     the manifest's digest, or null to pull by tag
 */
public record ImageReference(String registry, String repository, String tag, Digest digest) {

    public static final String DOCKER_HUB = "docker.io";
    private static final String DOCKER_HUB_API = "registry-1.docker.io";
    private static final String OFFICIAL_PREFIX = "library/";
    private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");
    private static final String HINT = "write [REGISTRY/]NAME[:TAG][@sha256:DIGEST], e.g. debian:bookworm, "
            + "ghcr.io/owner/tool:1.2 or localhost:5000/tools@sha256:...";

    /** Reads a reference; anything Docker would not accept is an error naming the part that is wrong. */
    public static ImageReference parse(String text) {
        String rest = text;
        Digest digest = null;
        int at = rest.indexOf('@');
        if (at >= 0) {
            String digestText = rest.substring(at + 1);
            if (!DIGEST.matcher(digestText).matches()) {
                throw new UserInputException("'" + text + "' has '" + digestText + "' where a sha256 digest belongs", HINT);
            }
            digest = Digest.parse(digestText);
            rest = rest.substring(0, at);
        }
        int slash = rest.lastIndexOf('/');
        int colon = rest.lastIndexOf(':');
        String tag = ImageName.DEFAULT_TAG;
        if (colon > slash) {
            tag = rest.substring(colon + 1);
            rest = rest.substring(0, colon);
        }
        String registry = DOCKER_HUB;
        int firstSlash = rest.indexOf('/');
        if (firstSlash > 0) {
            String first = rest.substring(0, firstSlash);
            if (first.contains(".") || first.contains(":") || first.equals("localhost")) {
                registry = first.equals("index.docker.io") ? DOCKER_HUB : first;
                rest = rest.substring(firstSlash + 1);
            }
        }
        if (registry.equals(DOCKER_HUB) && !rest.contains("/")) {
            rest = OFFICIAL_PREFIX + rest;
        }
        if (rest.isEmpty()) {
            throw new UserInputException("'" + text + "' names no repository", HINT);
        }
        return new ImageReference(registry, rest, tag, digest);
    }

    /** Checked as the store's names are: the local name must be a valid {@link ImageName}. */
    public ImageReference {
        try {
            localName(registry, repository, tag, digest);
        } catch (UserInputException e) {
            throw new UserInputException(e.getMessage(), HINT);
        }
    }

    /** The host[:port] the distribution API is spoken to: Docker Hub's API has a name of its own. */
    public String apiHost() {
        return registry.equals(DOCKER_HUB) ? DOCKER_HUB_API : registry;
    }

    /** The host name alone, without the port. */
    public String host() {
        int colon = registry.lastIndexOf(':');
        return colon > 0 ? registry.substring(0, colon) : registry;
    }

    /** The tag, or the digest when there is one: what a manifest is fetched by. */
    public String manifestReference() {
        return digest != null ? digest.toString() : tag;
    }

    /**
     * The name the pulled image gets in the store, the name a FROM line finds it by afterwards:
     * Docker Hub's official images lose their prefix ({@code debian:bookworm}), images of other
     * registries keep it ({@code localhost:5000/tools:1}); a pull by digest is named
     * {@code REPOSITORY:sha256-HEX}, so that it never takes over a tag.
     */
    public ImageName localName() {
        return localName(registry, repository, tag, digest);
    }

    private static ImageName localName(String registry, String repository, String tag, Digest digest) {
        String name = registry.equals(DOCKER_HUB) ? repository : registry + "/" + repository;
        if (name.startsWith(OFFICIAL_PREFIX)) {
            name = name.substring(OFFICIAL_PREFIX.length());
        }
        return new ImageName(name, digest != null ? "sha256-" + digest.hex() : tag);
    }

    @Override
    public String toString() {
        return registry + "/" + repository + (digest != null ? "@" + digest : ":" + tag);
    }
}
