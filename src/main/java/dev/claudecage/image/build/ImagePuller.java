package dev.claudecage.image.build;

import com.fasterxml.jackson.databind.JsonNode;
import dev.claudecage.CageException;
import dev.claudecage.UserInputException;
import dev.claudecage.host.Directories;
import dev.claudecage.image.archive.ImageImporter;
import dev.claudecage.image.registry.ImageReference;
import dev.claudecage.image.registry.RegistryAccess;
import dev.claudecage.image.registry.RegistryClient;
import dev.claudecage.host.InvokingUser;
import dev.claudecage.image.registry.RegistryCredentials;
import dev.claudecage.image.store.Digest;
import dev.claudecage.image.store.HostPlatform;
import dev.claudecage.image.store.ImageStore;
import dev.claudecage.image.store.StoredImage;
import dev.claudecage.json.Json;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Pulls an image over the OCI distribution API into the store: the manifest the reference names
 * (an index or manifest list narrowed to this host's platform), its config and its layers, each
 * checked against its digest; the layers are then unpacked and stored as {@code image import}
 * stores them (whiteouts and opaque directories turned into overlayfs ones). The image is named
 * {@link ImageReference#localName()}.
 */
public record ImagePuller(ImageStore store, ImageImporter importer, RegistryAccess access) {

    private static final Set<String> IMAGE_MANIFEST_TYPES = Set.of("application/vnd.oci.image.manifest.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json");
    private static final Set<String> CONFIG_TYPES = Set.of("application/vnd.oci.image.config.v1+json",
            "application/vnd.docker.container.image.v1+json");
    /** Layers GNU tar unpacks as they are: plain tar and gzip, in OCI's and Docker's words. */
    private static final Set<String> LAYER_TYPES = Set.of("application/vnd.oci.image.layer.v1.tar",
            "application/vnd.oci.image.layer.v1.tar+gzip", "application/vnd.docker.image.rootfs.diff.tar",
            "application/vnd.docker.image.rootfs.diff.tar.gzip");
    private static final long MAX_CONFIG_BYTES = 8 << 20;
    /** An index may name another index; more than this is a loop or a joke. */
    private static final int MAX_INDEX_DEPTH = 3;

    /**
     * Pulls {@code reference}, from its registry's mirrors first (registry_mirrors, in order) and
     * then from the registry; the caller holds the store's lock. {@code onNote} hears each step,
     * and why a mirror was passed over.
     */
    public StoredImage pull(ImageReference reference, Consumer<String> onNote) {
        Map<String, String> env = System.getenv();
        List<Path> authFiles = RegistryCredentials.authFiles(env, InvokingUser.home(env, Path.of("/etc/passwd")));
        List<String> passedOver = new ArrayList<>();
        for (URI mirror : access.mirrorsOf(reference.registry())) {
            String authority = mirror.getRawAuthority();
            if ("http".equals(mirror.getScheme()) && !access.plainHttp(mirror.getHost(), mirror.getPort())) {
                passedOver.add(mirror + ": plain http, and " + authority + " is neither on loopback nor in "
                        + "insecure_registries");
                onNote.accept("mirror " + passedOver.get(passedOver.size() - 1));
                continue;
            }
            try {
                return pullFrom(new RegistryClient(reference, mirror, access, RegistryCredentials.find(authority, authFiles)),
                        reference, onNote);
            } catch (CageException e) {
                passedOver.add(mirror + ": " + e.getMessage());
                onNote.accept("mirror " + mirror + " failed: " + e.getMessage() + "; trying the next");
            }
        }
        try {
            return pullFrom(new RegistryClient(reference, access, RegistryCredentials.find(reference.registry(), authFiles)),
                    reference, onNote);
        } catch (UserInputException e) {
            throw passedOver.isEmpty() ? e : new UserInputException(e.getMessage() + " (the mirrors failed too: "
                    + String.join("; ", passedOver) + ")", e.hint());
        } catch (CageException e) {
            throw passedOver.isEmpty() ? e : new CageException(e.getMessage() + " (the mirrors failed too: "
                    + String.join("; ", passedOver) + ")", e.hint(), e);
        }
    }

    private StoredImage pullFrom(RegistryClient client, ImageReference reference, Consumer<String> onNote) {
        onNote.accept("pulling " + reference + " from " + client.base());
        client.ping();
        JsonNode manifest = imageManifest(client, reference, onNote);
        Path work = store.createWorkDirectory("pull");
        try {
            Path blobs = Files.createDirectory(work.resolve("blobs"));
            JsonNode configDescriptor = manifest.path("config");
            requireType(configDescriptor, CONFIG_TYPES, "config", reference);
            Path configFile = download(client, configDescriptor, blobs, "config");
            if (Files.size(configFile) > MAX_CONFIG_BYTES) {
                throw new CageException("the config of " + reference + " is larger than " + MAX_CONFIG_BYTES + " bytes");
            }
            JsonNode config = Json.mapper().readTree(Files.readString(configFile));
            List<JsonNode> layers = new ArrayList<>();
            manifest.path("layers").forEach(layers::add);
            layers.forEach(layer -> requireType(layer, LAYER_TYPES, "layer", reference));
            List<Path> archives = new ArrayList<>();
            for (int i = 0; i < layers.size(); i++) {
                long started = System.nanoTime();
                Path archive = download(client, layers.get(i), blobs, "layer " + (i + 1));
                onNote.accept("layer " + (i + 1) + "/" + layers.size() + ": downloaded "
                        + Digest.parse(layers.get(i).path("digest").asText()).shortHex() + " ("
                        + BuildProgress.size(Files.size(archive)) + ") in "
                        + BuildProgress.format(Duration.ofNanos(System.nanoTime() - started)));
                archives.add(archive);
            }
            ImageImporter.Result stored = importer.storeImage(config, archives, reference.localName(), work, onNote);
            return store.image(stored.id()).orElseThrow();
        } catch (IOException e) {
            throw new CageException("cannot pull " + reference + ": " + e.getMessage());
        } finally {
            Directories.deleteRecursively(work, onNote);
        }
    }

    /** The image manifest for this host, following indexes (manifest lists) down to it. */
    private static JsonNode imageManifest(RegistryClient client, ImageReference reference, Consumer<String> onNote) {
        RegistryClient.Manifest fetched = client.manifest(reference.manifestReference());
        for (int depth = 0; depth <= MAX_INDEX_DEPTH; depth++) {
            if (IMAGE_MANIFEST_TYPES.contains(fetched.mediaType())) {
                return fetched.json();
            }
            if (!HostPlatform.INDEX_TYPES.contains(fetched.mediaType())) {
                throw new UserInputException(reference + " is a " + describe(fetched.mediaType()) + ", not a container image "
                        + "claude-cage can pull", "claude-cage pulls OCI and Docker schema 2 images and indexes of them");
            }
            JsonNode chosen = HostPlatform.manifests(fetched.json(), reference.toString()).get(0);
            String digest = chosen.path("digest").asText();
            onNote.accept(reference + " is an index of " + fetched.json().path("manifests").size() + " manifests; "
                    + HostPlatform.name() + " is " + digest);
            fetched = client.manifest(parseDigest(digest, reference).toString());
        }
        throw new CageException(reference + " nests indexes more than " + MAX_INDEX_DEPTH + " deep; refusing it");
    }

    private static String describe(String mediaType) {
        if (mediaType.startsWith("application/vnd.docker.distribution.manifest.v1")) {
            return "Docker schema 1 manifest (deprecated since 2017)";
        }
        return "'" + (mediaType.isEmpty() ? "unnamed" : mediaType) + "' document";
    }

    private static void requireType(JsonNode descriptor, Set<String> allowed, String what, ImageReference reference) {
        String type = descriptor.path("mediaType").asText("");
        if (!allowed.contains(type)) {
            String hint = type.contains("zstd") ? "zstd layers are not unpacked here; pull a gzip variant of the image"
                    : type.contains("foreign") || type.contains("nondistributable")
                    ? "layers that must be fetched from elsewhere are not supported" : "claude-cage pulls images whose "
                    + what + "s are " + allowed;
            throw new UserInputException("a " + what + " of " + reference + " has the media type '" + type + "'", hint);
        }
    }

    /** A blob named by a descriptor, downloaded and checked; its file is named by its digest. */
    private static Path download(RegistryClient client, JsonNode descriptor, Path blobs, String what) {
        Digest digest = parseDigest(descriptor.path("digest").asText(), null);
        if (!descriptor.path("size").canConvertToLong() || descriptor.path("size").asLong() < 0) {
            throw new CageException("the manifest gives the " + what + " " + digest + " no size");
        }
        Path file = blobs.resolve(digest.hex());
        if (!Files.exists(file)) {
            client.blob(digest, descriptor.path("size").asLong(), file);
        }
        return file;
    }

    private static Digest parseDigest(String text, ImageReference reference) {
        try {
            return Digest.parse(text);
        } catch (IllegalArgumentException e) {
            throw new CageException("the manifest" + (reference == null ? "" : " of " + reference) + " names '" + text
                    + "', which is not a sha256 digest; claude-cage checks every blob against its sha256");
        }
    }
}
