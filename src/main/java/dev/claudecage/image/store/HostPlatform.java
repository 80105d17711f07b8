package dev.claudecage.image.store;

import com.fasterxml.jackson.databind.JsonNode;
import dev.claudecage.UserInputException;

import java.util.ArrayList;
import java.util.List;

/**
 * Which entries of an image index (an OCI index or a Docker manifest list) this host can run:
 * linux on its own architecture. Used by {@code image import} and by registry pulls alike.
 */
public final class HostPlatform {

    /** The media types of an index whose entries are manifests (or further indexes) per platform. */
    public static final List<String> INDEX_TYPES = List.of("application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json");

    private HostPlatform() {
    }

    /** linux/amd64, say. */
    public static String name() {
        return ImageConfig.LINUX + "/" + Architecture.host();
    }

    /**
     * The index's descriptors for this host, in the index's order; an entry without a platform
     * counts as one (OCI layouts often leave it out). None is an error that names {@code image} and
     * lists the platforms the index has.
     */
    public static List<JsonNode> manifests(JsonNode index, String image) {
        List<JsonNode> candidates = new ArrayList<>();
        index.path("manifests").forEach(candidates::add);
        List<JsonNode> forHost = candidates.stream().filter(HostPlatform::isForHost).toList();
        if (forHost.isEmpty()) {
            throw new UserInputException(image + " has no manifest for " + name() + " (it has "
                    + candidates.stream().map(HostPlatform::platformOf).toList() + ")",
                    "claude-cage runs images for " + name() + " only; pick an image built for it");
        }
        return forHost;
    }

    private static boolean isForHost(JsonNode descriptor) {
        JsonNode platform = descriptor.path("platform");
        if (platform.isMissingNode()) {
            return true;
        }
        return platform.path("os").asText().equals(ImageConfig.LINUX)
                && platform.path("architecture").asText().equals(Architecture.host());
    }

    private static String platformOf(JsonNode descriptor) {
        JsonNode platform = descriptor.path("platform");
        String variant = platform.path("variant").asText("");
        return platform.path("os").asText("?") + "/" + platform.path("architecture").asText("?")
                + (variant.isEmpty() ? "" : "/" + variant);
    }
}
