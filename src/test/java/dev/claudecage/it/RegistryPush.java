package dev.claudecage.it;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;

/**
 * The push side of the distribution API, for tests only: monolithic blob uploads
 * ({@code POST /v2/NAME/blobs/uploads/}, then {@code PUT ...?digest=}) and manifest PUTs, with a
 * push token from the test's token service.
 */
final class RegistryPush {

    /** A blob the registry now holds. */
    record Blob(String digest, long size) {
    }

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final URI base;
    private final String repository;
    private final String token;

    RegistryPush(TestRegistry registry, String repository) throws Exception {
        this.base = URI.create("http://" + registry.hostPort());
        this.repository = repository;
        this.token = registry.token("repository:" + repository + ":pull,push");
    }

    Blob blob(byte[] content) throws Exception {
        return upload(HttpRequest.BodyPublishers.ofByteArray(content), digest(content), content.length);
    }

    Blob blob(Path file) throws Exception {
        MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
        try (var in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            for (int read; (read = in.read(buffer)) > 0; ) {
                sha256.update(buffer, 0, read);
            }
        }
        return upload(HttpRequest.BodyPublishers.ofFile(file), "sha256:" + HexFormat.of().formatHex(sha256.digest()),
                Files.size(file));
    }

    private Blob upload(HttpRequest.BodyPublisher body, String digest, long size) throws Exception {
        HttpResponse<String> started = send(HttpRequest.newBuilder(base.resolve("/v2/" + repository + "/blobs/uploads/"))
                .POST(HttpRequest.BodyPublishers.noBody()), 202);
        URI location = base.resolve(started.headers().firstValue("Location").orElseThrow());
        String separator = location.getRawQuery() == null ? "?" : "&";
        send(HttpRequest.newBuilder(URI.create(location + separator + "digest=" + URLEncoder.encode(digest,
                StandardCharsets.UTF_8))).header("Content-Type", "application/octet-stream").PUT(body), 201);
        return new Blob(digest, size);
    }

    /** PUTs a manifest or index under a tag (or its digest); returns its digest. */
    String manifest(String reference, String mediaType, byte[] body) throws Exception {
        send(HttpRequest.newBuilder(base.resolve("/v2/" + repository + "/manifests/" + reference))
                .header("Content-Type", mediaType).PUT(HttpRequest.BodyPublishers.ofByteArray(body)), 201);
        return digest(body);
    }

    static String digest(byte[] content) throws Exception {
        return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
    }

    private HttpResponse<String> send(HttpRequest.Builder request, int expected) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(request.header("Authorization", "Bearer " + token)
                .timeout(Duration.ofMinutes(2)).build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != expected) {
            throw new IOException(request.build().method() + " " + request.build().uri() + " answered "
                    + response.statusCode() + ": " + response.body());
        }
        return response;
    }
}
