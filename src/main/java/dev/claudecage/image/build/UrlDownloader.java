package dev.claudecage.image.build;

import dev.claudecage.CageException;
import dev.claudecage.Teardown;
import dev.claudecage.image.registry.Download;
import dev.claudecage.image.registry.RegistryAccess;
import dev.claudecage.image.store.Digest;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.HexFormat;
import java.util.Optional;

/**
 * ADD of a URL: the host side downloads it, under the rules image pulls follow (HTTPS, or plain
 * HTTP only to loopback and the {@code insecure_registries}; redirects too, at most 5), with
 * no credentials, and checks it against the {@code --checksum} the Dockerfile gives.
 */
final class UrlDownloader {

    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STALL_TIMEOUT = Duration.ofSeconds(60);
    private static final int MAX_REDIRECTS = 5;
    private static final long MAX_BYTES = 8L << 30;

    /** What was downloaded: its sha256 and the server's Last-Modified time, if it sent one. */
    record Downloaded(Path file, Digest digest, Optional<Instant> lastModified) {
    }

    private final RegistryAccess access;
    private HttpClient http;

    UrlDownloader(RegistryAccess access) {
        this.access = access;
    }

    /**
     * The client, made on the first download: most builds download nothing, and a client's selector
     * thread, waiting in epoll, holds up the JVM's exit by 300 ms (HotSpot waits for threads in
     * native code), besides the 70 ms or so its TLS context takes to make.
     */
    private synchronized HttpClient http() {
        if (http == null) {
            http = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).followRedirects(HttpClient.Redirect.NEVER).build();
        }
        return http;
    }

    /**
     * Downloads {@code url} into {@code target}; with {@code expected}, a file that does not match
     * it is deleted and refused.
     */
    Downloaded download(String url, Path target, Digest expected) {
        URI uri = allowed(URI.create(url), url);
        for (int redirect = 0; ; redirect++) {
            HttpResponse<InputStream> response;
            try {
                response = http().send(HttpRequest.newBuilder(uri).timeout(REQUEST_TIMEOUT).GET().build(),
                        HttpResponse.BodyHandlers.ofInputStream());
            } catch (IOException e) {
                throw new CageException("cannot download " + uri + ": " + e.getMessage(),
                        "check the URL and that this host reaches it");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CageException("the download of " + uri + " was interrupted");
            }
            int status = response.statusCode();
            if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
                Teardown.closeQuietly(response.body());
                if (redirect >= MAX_REDIRECTS) {
                    throw new CageException(url + " redirects more than " + MAX_REDIRECTS + " times");
                }
                URI from = uri;
                String location = response.headers().firstValue("Location")
                        .orElseThrow(() -> new CageException(from + " redirects without saying where to"));
                uri = allowed(uri.resolve(location), url);
                continue;
            }
            if (status != 200) {
                Teardown.closeQuietly(response.body());
                throw new CageException("downloading " + uri + " answered HTTP " + status, "check the URL");
            }
            MessageDigest sha256 = Digest.sha256();
            try {
                Download.save(response.body(), target, MAX_BYTES, sha256, STALL_TIMEOUT);
            } catch (IOException e) {
                deleteQuietly(target);
                throw new CageException("downloading " + uri + " failed: " + e.getMessage(), "check the connection, "
                        + "and build again");
            }
            Digest actual = new Digest(HexFormat.of().formatHex(sha256.digest()));
            if (expected != null && !actual.equals(expected)) {
                deleteQuietly(target);
                throw new CageException("the file at " + url + " does not match --checksum=" + expected + ": it is " + actual
                        + "; nothing was added", "check the checksum; if it is right, the server (or a proxy between) "
                        + "serves something else");
            }
            return new Downloaded(target, actual, response.headers().firstValue("Last-Modified").flatMap(UrlDownloader::httpDate));
        }
    }

    /** HTTPS, or plain HTTP where {@link RegistryAccess} allows it (loopback, insecure_registries). */
    private URI allowed(URI uri, String url) {
        boolean https = "https".equalsIgnoreCase(uri.getScheme());
        boolean plain = "http".equalsIgnoreCase(uri.getScheme()) && uri.getHost() != null
                && access.plainHttp(uri.getHost(), uri.getPort());
        if (!https && !plain) {
            throw new CageException("ADD " + url + ": " + uri.getScheme() + "://" + uri.getAuthority() + " is not HTTPS; "
                    + "claude-cage speaks plain HTTP only to loopback and to the hosts in the insecure_registries "
                    + "configuration key", "use an https:// URL, or list the host in insecure_registries if you trust "
                    + "the network between");
        }
        return uri;
    }

    private static Optional<Instant> httpDate(String value) {
        try {
            return Optional.of(ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant());
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // It lies in a work directory that the step removes.
        }
    }
}
