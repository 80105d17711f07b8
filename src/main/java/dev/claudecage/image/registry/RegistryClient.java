package dev.claudecage.image.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.claudecage.CageException;
import dev.claudecage.Teardown;
import dev.claudecage.UserInputException;
import dev.claudecage.image.store.Digest;
import dev.claudecage.json.Json;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The read side of the OCI distribution API for one repository, over {@code java.net.http}:
 * {@code GET /v2/} to find out how the registry wants to be spoken to, a Bearer token from the
 * service its {@code WWW-Authenticate} challenge names (anonymous, or for the user's
 * {@link RegistryCredentials}; HTTP Basic with them where that is what it asks), manifests and blobs. Everything
 * fetched by digest is checked against it, and a blob that does not match is refused. Plain
 * HTTP only where {@link RegistryAccess} allows it.
 */
public final class RegistryClient {

    /** What a manifest request may get back, the most specific first. */
    static final List<String> MANIFEST_TYPES = List.of(
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json");
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);
    /** A blob download that receives nothing for this long is abandoned. */
    private static final Duration STALL_TIMEOUT = Duration.ofSeconds(60);
    private static final int MAX_REDIRECTS = 5;
    private static final int MAX_MANIFEST_BYTES = 4 << 20;

    private final ImageReference reference;
    private final RegistryAccess access;
    private final URI base;
    private final HttpClient http;
    private final Optional<RegistryCredentials> credentials;
    private String token;
    /** The registry asked for HTTP Basic authentication, which its credentials answer on every request. */
    private boolean basic;

    /** A manifest or index as the registry sent it. */
    public record Manifest(String mediaType, byte[] body, Digest digest) {
        public JsonNode json() {
            return parse(body, digest);
        }
    }

    private static JsonNode parse(byte[] manifest, Digest digest) {
        try {
            return Json.mapper().readTree(manifest);
        } catch (IOException e) {
            throw new CageException("the manifest " + digest + " is not JSON: " + e.getMessage());
        }
    }

    /** A client that pulls anonymously. */
    public RegistryClient(ImageReference reference, RegistryAccess access) {
        this(reference, access, Optional.empty());
    }

    /** A client that answers the registry's challenge with {@code credentials} when there are some. */
    public RegistryClient(ImageReference reference, RegistryAccess access, Optional<RegistryCredentials> credentials) {
        this(reference, URI.create(access.scheme(reference.apiHost()) + "://" + reference.apiHost()), access, credentials);
    }

    /**
     * A client that speaks to {@code base} (a mirror of the reference's registry: the same
     * repositories under another address) for the reference's repository.
     */
    public RegistryClient(ImageReference reference, URI base, RegistryAccess access,
                          Optional<RegistryCredentials> credentials) {
        this.reference = reference;
        this.access = access;
        this.credentials = credentials;
        this.base = base;
        this.http = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /** Where the registry is spoken to, e.g. https://registry-1.docker.io. */
    public URI base() {
        return base;
    }

    /**
     * {@code GET /v2/}: that the registry is there and speaks the API; when it answers with a
     * Bearer challenge, an anonymous token for pulling the repository is fetched right away.
     */
    public void ping() {
        HttpResponse<byte[]> response = sendOnce(request(base.resolve("/v2/")), HttpResponse.BodyHandlers.ofByteArray(), false);
        switch (response.statusCode()) {
            case 200 -> {
            }
            case 401 -> authenticate(response);
            case 404 -> throw new CageException(reference.registry() + " does not speak the OCI distribution API "
                    + "(GET " + base.resolve("/v2/") + " answered 404)", "check the registry's name and port");
            default -> throw unexpected(response, "GET /v2/");
        }
    }

    /**
     * The manifest or index a tag or a digest names, checked against the digest when fetched by
     * one, else against the Docker-Content-Digest header when the registry sends it.
     */
    public Manifest manifest(String tagOrDigest) {
        URI uri = base.resolve("/v2/" + reference.repository() + "/manifests/" + tagOrDigest);
        HttpRequest.Builder request = request(uri).header("Accept", String.join(", ", MANIFEST_TYPES));
        HttpResponse<byte[]> response = send(request, HttpResponse.BodyHandlers.ofByteArray(), true);
        if (response.statusCode() == 404) {
            throw new UserInputException(reference.registry() + " has no image " + reference.repository() + ":"
                    + tagOrDigest.replaceFirst("^sha256:", "@sha256:") + " (" + errorText(response) + ")",
                    "check the repository and the tag; nothing was pulled");
        }
        if (response.statusCode() != 200) {
            throw unexpected(response, "GET " + uri.getPath());
        }
        byte[] body = response.body();
        if (body.length > MAX_MANIFEST_BYTES) {
            throw new CageException("the manifest of " + reference + " is " + body.length + " bytes long, more than a "
                    + "manifest can reasonably be; refusing it");
        }
        Digest actual = Digest.of(body);
        Optional<String> expected = tagOrDigest.startsWith("sha256:") ? Optional.of(tagOrDigest)
                : response.headers().firstValue("Docker-Content-Digest").filter(value -> value.startsWith("sha256:"));
        if (expected.isPresent() && !expected.get().equals(actual.toString())) {
            throw new CageException("the manifest " + reference.repository() + ":" + tagOrDigest + " from "
                    + reference.registry() + " does not match its digest " + expected.get() + " (it is " + actual
                    + "); nothing was stored", "pull again; if it repeats, the registry or something between is broken");
        }
        String mediaType = response.headers().firstValue("Content-Type").map(RegistryClient::bareType).orElse("");
        if (!MANIFEST_TYPES.contains(mediaType)) {
            // Some registries send application/json; the manifest then says what it is.
            String declared = parse(body, actual).path("mediaType").asText("");
            mediaType = MANIFEST_TYPES.contains(declared) ? declared : mediaType.isEmpty() ? declared : mediaType;
        }
        return new Manifest(mediaType, body, actual);
    }

    /**
     * Downloads a blob into {@code target}, checking its size and digest as it comes; a blob
     * that does not match is deleted and refused. Redirects (to a storage backend) are followed,
     * without the token when they leave the registry's host, and never from HTTPS to plain HTTP
     * that {@link RegistryAccess} does not allow.
     */
    public void blob(Digest digest, long size, Path target) {
        URI uri = base.resolve("/v2/" + reference.repository() + "/blobs/" + digest);
        boolean authorized = true;
        for (int redirect = 0; ; redirect++) {
            HttpResponse<InputStream> response = send(request(uri), HttpResponse.BodyHandlers.ofInputStream(), authorized);
            int status = response.statusCode();
            if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
                Teardown.closeQuietly(response.body());
                URI next = uri.resolve(response.headers().firstValue("Location").orElseThrow(() -> new CageException(
                        reference.registry() + " redirected the blob " + digest + " without saying where to")));
                if (redirect >= MAX_REDIRECTS) {
                    throw new CageException(reference.registry() + " redirected the blob " + digest + " more than "
                            + MAX_REDIRECTS + " times");
                }
                requireAllowedScheme(next, "the blob " + digest);
                // A storage backend (S3, a CDN) gets no registry token: it has its own signature in the URL.
                authorized = authorized && next.getHost() != null && next.getHost().equals(uri.getHost())
                        && next.getPort() == uri.getPort();
                uri = next;
                continue;
            }
            if (status != 200) {
                Teardown.closeQuietly(response.body());
                throw unexpectedStatus(status, "GET " + uri.getPath(), "");
            }
            save(response.body(), digest, size, target);
            return;
        }
    }

    private void save(InputStream body, Digest digest, long size, Path target) {
        MessageDigest sha256 = Digest.sha256();
        long received;
        try {
            received = Download.save(body, target, size, sha256, STALL_TIMEOUT);
        } catch (Download.TooLarge e) {
            deleteQuietly(target);
            throw mismatch(digest, "more than the " + size + " bytes the manifest says");
        } catch (IOException e) {
            deleteQuietly(target);
            throw new CageException("downloading the blob " + digest + " from " + reference.registry() + " failed: "
                    + e.getMessage(), "check the connection and pull again");
        }
        String actual = HexFormat.of().formatHex(sha256.digest());
        if (received != size || !actual.equals(digest.hex())) {
            deleteQuietly(target);
            throw mismatch(digest, received + " bytes with the digest sha256:" + actual);
        }
    }

    private CageException mismatch(Digest digest, String got) {
        return new CageException("the blob " + digest + " from " + reference.registry() + " does not match its digest: "
                + "got " + got + "; it was refused and nothing was stored",
                "pull again; if it repeats, the registry (or a proxy between) serves a damaged image");
    }

    private HttpRequest.Builder request(URI uri) {
        return HttpRequest.newBuilder(uri).timeout(REQUEST_TIMEOUT).GET();
    }

    /**
     * Sends a request with the token when there is one (and {@code authorized}); a 401 with a
     * Bearer challenge, on a request that had no token or an expired one, gets a fresh token
     * and one retry.
     */
    private <T> HttpResponse<T> send(HttpRequest.Builder request, HttpResponse.BodyHandler<T> handler, boolean authorized) {
        HttpResponse<T> response = sendOnce(request, handler, authorized);
        if (response.statusCode() == 401 && authorized) {
            closeIfStream(response);
            authenticate(response);
            response = sendOnce(request, handler, true);
        }
        if (response.statusCode() == 401 || response.statusCode() == 403) {
            closeIfStream(response);
            throw refused(response.statusCode() + " " + errorText(response), reference.registry());
        }
        return response;
    }

    private <T> HttpResponse<T> sendOnce(HttpRequest.Builder request, HttpResponse.BodyHandler<T> handler,
                                         boolean authorized) {
        HttpRequest.Builder withAuthorization = request;
        if (authorized && token != null) {
            withAuthorization = request.copy().header("Authorization", "Bearer " + token);
        } else if (authorized && basic) {
            withAuthorization = request.copy().header("Authorization", credentials.orElseThrow().basicAuthorization());
        }
        HttpRequest built = withAuthorization.build();
        try {
            return http.send(built, handler);
        } catch (ConnectException e) {
            throw unreachable(built.uri(), "connection refused or no route");
        } catch (HttpTimeoutException e) {
            throw unreachable(built.uri(), "no answer within " + REQUEST_TIMEOUT.toSeconds() + " s");
        } catch (IOException e) {
            throw unreachable(built.uri(), e.getClass().getSimpleName() + (e.getMessage() != null ? ": " + e.getMessage() : ""));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CageException("interrupted while talking to " + built.uri().getHost());
        }
    }

    private CageException unreachable(URI uri, String why) {
        String hint = uri.getScheme().equals("https")
                ? "check the name, the port and that the registry runs; a registry that speaks plain HTTP must be on "
                + "loopback or listed in the insecure_registries configuration key"
                : "check the name, the port and that the registry runs";
        return new CageException("cannot reach the registry at " + uri.getScheme() + "://" + uri.getAuthority() + " ("
                + why + ")", hint);
    }

    /**
     * Answers the challenge: a token from the service a Bearer challenge names, for pulling this
     * repository (anonymous, or with the credentials when there are some); or, to a Basic challenge,
     * the credentials on every request.
     */
    private void authenticate(HttpResponse<?> challenged) {
        List<AuthChallenge> challenges = AuthChallenge.parse(challenged.headers().allValues("WWW-Authenticate"));
        Optional<AuthChallenge> bearer = AuthChallenge.find(challenges, "bearer");
        if (bearer.isEmpty()) {
            if (AuthChallenge.find(challenges, "basic").isPresent() && credentials.isPresent()) {
                requireSafeForCredentials(base, "the registry");
                basic = true;
                return;
            }
            String schemes = challenges.stream().map(AuthChallenge::scheme).toList().toString();
            throw new UserInputException(reference.registry() + " wants credentials (" + (challenges.isEmpty()
                    ? "no WWW-Authenticate challenge" : "auth schemes " + schemes) + ") and "
                    + credentialsWord(), CREDENTIALS_HINT);
        }
        String realm = bearer.get().parameter("realm").orElseThrow(() -> new CageException(reference.registry()
                + " sent a Bearer challenge without a realm (token service)"));
        URI realmUri;
        try {
            realmUri = URI.create(realm);
        } catch (IllegalArgumentException e) {
            throw new CageException(reference.registry() + " names the token service '" + realm + "', which is not a URL");
        }
        requireAllowedScheme(realmUri, "the token service");
        String scope = "repository:" + reference.repository() + ":pull";
        StringBuilder query = new StringBuilder(realmUri.getRawQuery() == null ? "" : realmUri.getRawQuery() + "&");
        bearer.get().parameter("service").ifPresent(service -> query.append("service=").append(encode(service)).append('&'));
        query.append("scope=").append(encode(scope));
        URI tokenUri = URI.create(realmUri.getScheme() + "://" + realmUri.getRawAuthority()
                + (realmUri.getRawPath() == null || realmUri.getRawPath().isEmpty() ? "/" : realmUri.getRawPath())
                + "?" + query);
        HttpRequest.Builder tokenRequest = request(tokenUri);
        // The credentials go to the token service the registry names, as docker's do.
        if (credentials.isPresent()) {
            requireSafeForCredentials(tokenUri, "the token service");
            tokenRequest.header("Authorization", credentials.get().basicAuthorization());
        }
        HttpResponse<byte[]> response = sendOnce(tokenRequest, HttpResponse.BodyHandlers.ofByteArray(), false);
        if (response.statusCode() == 401 || response.statusCode() == 403) {
            throw refused(response.statusCode() + " " + errorText(response), "the token service of "
                    + reference.registry() + " (" + realmUri.getAuthority() + ")");
        }
        if (response.statusCode() != 200) {
            throw unexpected(response, "the token request to " + realmUri.getAuthority());
        }
        JsonNode answer;
        try {
            answer = Json.mapper().readTree(response.body());
        } catch (IOException e) {
            throw new CageException("the token service of " + reference.registry() + " answered with something that is not "
                    + "JSON: " + e.getMessage());
        }
        String issued = answer.path("token").asText(answer.path("access_token").asText(""));
        if (issued.isEmpty()) {
            throw new CageException("the token service of " + reference.registry() + " answered without a token");
        }
        token = issued;
    }

    private static final String CREDENTIALS_HINT = "check the name; for a private image, log in (podman login, "
            + "or docker login with no credential helper) or point REGISTRY_AUTH_FILE at an auth file; or 'docker save' "
            + "it elsewhere and 'claude-cage image import' the archive";

    private String credentialsWord() {
        return credentials.map(found -> "refused the " + found).orElse("claude-cage found no credentials for "
                + reference.registry() + " in the auth files (REGISTRY_AUTH_FILE, podman's auth.json, "
                + "~/.docker/config.json; credential helpers are not called)");
    }

    private UserInputException refused(String answer, String who) {
        return new UserInputException(who + " refused to let " + reference.repository() + " be pulled "
                + credentials.map(found -> "with the " + found).orElse("anonymously") + " (" + answer + "): "
                + (credentials.isPresent() ? "the credentials are wrong or lack access, or the repository does not exist"
                : "the repository is private, or does not exist"), CREDENTIALS_HINT);
    }

    /**
     * Credentials travel over HTTPS, or plain HTTP to loopback only: insecure_registries lets a
     * pull go unencrypted, not a password.
     */
    private void requireSafeForCredentials(URI uri, String what) {
        if (!"https".equals(uri.getScheme()) && !(uri.getHost() != null && RegistryAccess.loopback(uri.getHost()))) {
            throw new UserInputException(what + " of " + reference.registry() + " speaks plain HTTP at "
                    + uri.getAuthority() + ", and claude-cage sends the " + credentials.orElseThrow()
                    + " over HTTPS or to loopback only", "serve the registry over HTTPS, or pull anonymously");
        }
    }

    /** HTTPS, or plain HTTP where {@link RegistryAccess} allows it. */
    private void requireAllowedScheme(URI uri, String what) {
        boolean https = "https".equals(uri.getScheme());
        boolean plain = "http".equals(uri.getScheme()) && uri.getHost() != null && access.plainHttp(uri.getHost(), uri.getPort());
        if (!https && !plain) {
            throw new CageException(reference.registry() + " sends " + what + " to " + uri.getScheme() + "://"
                    + uri.getAuthority() + "; claude-cage speaks plain HTTP only to loopback and to the hosts in the "
                    + "insecure_registries configuration key", "add " + uri.getAuthority() + " to insecure_registries "
                    + "if you trust the network between");
        }
    }

    private CageException unexpected(HttpResponse<byte[]> response, String what) {
        return unexpectedStatus(response.statusCode(), what, errorText(response));
    }

    private CageException unexpectedStatus(int status, String what, String detail) {
        return new CageException(reference.registry() + " answered " + status + " to " + what
                + (detail.isEmpty() ? "" : " (" + detail + ")"), status >= 500
                ? "the registry has a problem; try again later" : "check the reference " + reference);
    }

    /** The distribution API's error body, {"errors":[{"code":...,"message":...}]}, as one line. */
    private static String errorText(HttpResponse<?> response) {
        if (!(response.body() instanceof byte[] body) || body.length == 0) {
            return "no details";
        }
        try {
            JsonNode errors = Json.mapper().readTree(body).path("errors");
            if (errors.isArray() && errors.size() > 0) {
                JsonNode first = errors.get(0);
                return first.path("code").asText("") + ": " + first.path("message").asText("");
            }
        } catch (IOException notJson) {
            // Fall through to the text.
        }
        String text = new String(body, StandardCharsets.UTF_8).strip();
        return text.length() > 200 ? text.substring(0, 200) + "..." : text;
    }

    private static String bareType(String contentType) {
        int semicolon = contentType.indexOf(';');
        return (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).strip().toLowerCase(Locale.ROOT);
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    private static void closeIfStream(HttpResponse<?> response) {
        if (response.body() instanceof InputStream stream) {
            Teardown.closeQuietly(stream);
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // A work directory; the caller removes it as a whole.
        }
    }
}
