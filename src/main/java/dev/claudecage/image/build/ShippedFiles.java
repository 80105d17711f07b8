package dev.claudecage.image.build;

import dev.claudecage.CageException;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The files claude-cage ships beside its jar: the Dockerfiles of the {@code cli} and
 * {@code desktop} images and the debootstrap script. Installed, they sit next to the jar
 * ({@code PREFIX/lib/claude-cage/docker/...}); in the source tree, the jar is in
 * {@code target/} and they are one level up.
 */
public final class ShippedFiles {

    private static final String MARKER = "rootfs-builder/make-minbase-rootfs.sh";
    static final String LOCAL_CA_DIRECTORY = "/usr/local/share/ca-certificates";
    public static final String EXTRA_CA_CERTS_ARG = "EXTRA_CA_CERTS";

    /** The gateway image copies claude-cage's own jar, under this name in its context. */
    public static final String GATEWAY_JAR = "claude-cage.jar";

    private final Path root;
    private final Path jar;

    private ShippedFiles(Path root, Path jar) {
        this.root = root;
        this.jar = jar;
    }

    public static ShippedFiles locate() {
        Path location;
        try {
            location = Path.of(ShippedFiles.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException | SecurityException e) {
            throw new CageException("cannot tell where claude-cage is installed: " + e.getMessage());
        }
        List<Path> tried = new ArrayList<>();
        for (Path candidate = location; candidate != null && tried.size() < 3; candidate = candidate.getParent()) {
            if (Files.isRegularFile(candidate.resolve(MARKER))) {
                return new ShippedFiles(candidate, location);
            }
            tried.add(candidate);
        }
        throw new CageException("the files shipped with claude-cage are missing: no " + MARKER + " in " + tried,
                "reinstall with 'sudo make install', or build from a directory: claude-cage build -f FILE CONTEXT");
    }

    /** The directory of a shipped image's Dockerfile, which is also its build context. */
    public Path imageContext(String image) {
        return root.resolve("docker").resolve(image);
    }

    /**
     * Build args the shipped images get from this host unless given: for {@code cli}, the
     * host's own CA certificates ({@value #LOCAL_CA_DIRECTORY}), so that its download of Claude
     * Code passes a TLS-inspecting proxy the host trusts. The download is checked by its sha512
     * either way, and the certificates do not stay in the image.
     */
    public static Map<String, String> hostBuildArgs(String image) {
        if (!image.equals("cli")) {
            return Map.of();
        }
        Path directory = Path.of(LOCAL_CA_DIRECTORY);
        if (!Files.isDirectory(directory)) {
            return Map.of();
        }
        try (Stream<Path> files = Files.list(directory)) {
            StringBuilder pem = new StringBuilder();
            for (Path file : files.filter(path -> path.toString().endsWith(".crt")).sorted().toList()) {
                pem.append(Files.readString(file).strip()).append('\n');
            }
            return pem.length() == 0 ? Map.of() : Map.of(EXTRA_CA_CERTS_ARG, pem.toString());
        } catch (IOException e) {
            throw new CageException("cannot read the host's CA certificates in " + directory + ": " + e.getMessage());
        }
    }

    /**
     * The gateway image's context: a fresh folder under {@code parent} with its Dockerfile, its
     * .dockerignore and this claude-cage's jar, which the image runs. The caller removes it.
     */
    public Path gatewayContext(Path parent) {
        if (!Files.isRegularFile(jar)) {
            throw new CageException("the gateway image needs claude-cage's jar, and " + jar + " is none (classes run "
                    + "from a folder)", "build the jar first: mvn -B package, then target/claude-cage.jar build gateway");
        }
        try {
            Path context = Files.createTempDirectory(parent, "gateway-context-");
            Path shipped = imageContext("gateway");
            Files.copy(shipped.resolve("Dockerfile"), context.resolve("Dockerfile"));
            Files.copy(shipped.resolve(".dockerignore"), context.resolve(".dockerignore"));
            Files.copy(jar, context.resolve(GATEWAY_JAR));
            return context;
        } catch (IOException e) {
            throw new CageException("cannot prepare the gateway image's context under " + parent + ": " + e.getMessage());
        }
    }

    Path debootstrapScript() {
        return root.resolve("rootfs-builder/make-minbase-rootfs.sh");
    }
}
