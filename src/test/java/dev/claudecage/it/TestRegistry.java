package dev.claudecage.it;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import dev.claudecage.json.Json;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A real registry on loopback: Debian's {@code docker-registry} (the CNCF distribution registry)
 * on 127.0.0.1 and a free port, storing in a directory of the test's, with token authentication
 * against a small token service in this JVM. The service gives anyone a token for what they
 * ask (anonymous access, as Docker Hub gives for public images), but for repositories under
 * {@value #PRIVATE_PREFIX} only to a request with the test user's credentials: JWTs signed RS256 with a key
 * and self-signed certificate made by keytool for this run, the certificate being the
 * registry's {@code rootcertbundle}. {@link #close()} stops both and is safe to call on any path.
 */
final class TestRegistry implements AutoCloseable {

    static final String BINARY = "/usr/bin/docker-registry";
    private static final String SERVICE = "claude-cage-it-registry";
    private static final String ISSUER = "claude-cage-it-token-service";
    private static final String STORE_PASSWORD = "it-only-" + HexFormat.of().formatHex(new SecureRandom().generateSeed(6));
    private static final Duration START_TIMEOUT = Duration.ofSeconds(20);

    /** Repositories under this prefix are private: a token for them needs the user's credentials. */
    static final String PRIVATE_PREFIX = "private/";
    static final String PRIVATE_USER = "it-user";
    static final String PRIVATE_PASSWORD = "it-" + HexFormat.of().formatHex(new SecureRandom().generateSeed(6));
    private static final String PRIVATE_BASIC = "Basic " + java.util.Base64.getEncoder().encodeToString(
            (PRIVATE_USER + ":" + PRIVATE_PASSWORD).getBytes(StandardCharsets.UTF_8));

    /** A token request as the token service saw it. */
    record TokenRequest(String scope, String service, boolean withCredentials) {
    }

    private final Path dir;
    private final int port;
    private final HttpServer tokenService;
    private final List<TokenRequest> tokenRequests = new CopyOnWriteArrayList<>();
    private PrivateKey key;
    private Certificate certificate;
    private Process process;

    private TestRegistry(Path dir) throws IOException {
        this.dir = dir;
        this.port = freePort();
        this.tokenService = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    }

    /** Starts the token service and the registry; on any failure, stops what started. */
    static TestRegistry start(Path dir) throws Exception {
        TestRegistry registry = new TestRegistry(dir);
        try {
            registry.makeSigningKey();
            registry.startTokenService();
            registry.startRegistry();
            return registry;
        } catch (Exception | AssertionError e) {
            registry.close();
            throw e;
        }
    }

    /** host:port, as an image reference names it. */
    String hostPort() {
        return "127.0.0.1:" + port;
    }

    Path storage() {
        return dir.resolve("storage");
    }

    List<TokenRequest> tokenRequests() {
        return List.copyOf(tokenRequests);
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private void makeSigningKey() throws Exception {
        Path keystore = dir.resolve("token.p12");
        run(List.of("keytool", "-genkeypair", "-alias", "token", "-keyalg", "RSA", "-keysize", "2048",
                "-dname", "CN=claude-cage IT token service", "-validity", "2", "-keystore", keystore.toString(),
                "-storetype", "PKCS12", "-storepass", STORE_PASSWORD, "-keypass", STORE_PASSWORD));
        run(List.of("keytool", "-exportcert", "-rfc", "-alias", "token", "-keystore", keystore.toString(),
                "-storepass", STORE_PASSWORD, "-file", dir.resolve("token.pem").toString()));
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            store.load(in, STORE_PASSWORD.toCharArray());
        }
        key = (PrivateKey) store.getKey("token", STORE_PASSWORD.toCharArray());
        certificate = store.getCertificate("token");
    }

    private void startTokenService() {
        tokenService.createContext("/token", exchange -> {
            Map<String, String> query = query(exchange.getRequestURI().getRawQuery());
            String scope = query.getOrDefault("scope", "");
            String authorization = exchange.getRequestHeaders().getFirst("Authorization");
            tokenRequests.add(new TokenRequest(scope, query.get("service"), authorization != null));
            if (scope.startsWith("repository:" + PRIVATE_PREFIX) && !PRIVATE_BASIC.equals(authorization)) {
                byte[] refusal = "{\"details\":\"private repository: credentials required\"}".getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(401, refusal.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(refusal);
                }
                return;
            }
            byte[] body;
            try {
                body = Json.write(Map.of("token", token(scope), "expires_in", 300)).getBytes(StandardCharsets.UTF_8);
            } catch (Exception e) {
                throw new IOException(e);
            }
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        tokenService.start();
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> values = new LinkedHashMap<>();
        if (raw != null) {
            for (String pair : raw.split("&")) {
                int equals = pair.indexOf('=');
                values.put(URLDecoder.decode(equals < 0 ? pair : pair.substring(0, equals), StandardCharsets.UTF_8),
                        equals < 0 ? "" : URLDecoder.decode(pair.substring(equals + 1), StandardCharsets.UTF_8));
            }
        }
        return values;
    }

    /** A JWT granting what {@code scope} ("repository:NAME:pull,push") asks for. */
    String token(String scope) throws Exception {
        ObjectNode header = Json.mapper().createObjectNode().put("alg", "RS256").put("typ", "JWT");
        header.putArray("x5c").add(Base64.getEncoder().encodeToString(certificate.getEncoded()));
        long now = Instant.now().getEpochSecond();
        ObjectNode claims = Json.mapper().createObjectNode().put("iss", ISSUER).put("sub", "").put("aud", SERVICE)
                .put("exp", now + 300).put("nbf", now - 10).put("iat", now)
                .put("jti", HexFormat.of().formatHex(new SecureRandom().generateSeed(8)));
        var access = claims.putArray("access");
        String[] parts = scope.split(":");
        if (parts.length == 3 && parts[0].equals("repository")) {
            var grant = access.addObject().put("type", "repository").put("name", parts[1]).putArray("actions");
            for (String action : parts[2].split(",")) {
                grant.add(action);
            }
        }
        Base64.Encoder url = Base64.getUrlEncoder().withoutPadding();
        String signed = url.encodeToString(Json.mapper().writeValueAsBytes(header)) + "."
                + url.encodeToString(Json.mapper().writeValueAsBytes(claims));
        Signature signature = Signature.getInstance("SHA256withRSA");
        signature.initSign(key);
        signature.update(signed.getBytes(StandardCharsets.US_ASCII));
        return signed + "." + url.encodeToString(signature.sign());
    }

    private void startRegistry() throws Exception {
        Files.createDirectories(storage());
        Path config = dir.resolve("config.yml");
        Files.writeString(config, String.join("\n",
                "version: 0.1",
                "log:",
                "  level: info",
                "storage:",
                "  filesystem:",
                "    rootdirectory: " + storage(),
                "http:",
                "  addr: 127.0.0.1:" + port,
                "auth:",
                "  token:",
                "    realm: http://127.0.0.1:" + tokenService.getAddress().getPort() + "/token",
                "    service: " + SERVICE,
                "    issuer: " + ISSUER,
                "    rootcertbundle: " + dir.resolve("token.pem"),
                ""));
        process = new ProcessBuilder(BINARY, "serve", config.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("registry.log").toFile()).start();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            try {
                HttpResponse<Void> response = http.send(HttpRequest.newBuilder(URI.create("http://" + hostPort() + "/v2/"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
                if (response.statusCode() == 401) {
                    return;
                }
                throw new AssertionError("the registry answered /v2/ with " + response.statusCode() + ", not the 401 of "
                        + "token auth; its log: " + log());
            } catch (IOException notYet) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    throw new AssertionError("the registry did not start within " + START_TIMEOUT + "; its log: " + log());
                }
                Thread.sleep(200);
            }
        }
    }

    String log() {
        try {
            return Files.readString(dir.resolve("registry.log"));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static void run(List<String> command) throws IOException, InterruptedException {
        Process started = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(started.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!started.waitFor(60, TimeUnit.SECONDS) || started.exitValue() != 0) {
            started.destroyForcibly();
            throw new IOException(command.get(0) + " failed: " + output);
        }
    }

    @Override
    public void close() {
        if (process != null) {
            process.destroy();
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        tokenService.stop(0);
    }
}
