package dev.claudecage.image.registry;

import dev.claudecage.CageException;
import dev.claudecage.UserInputException;
import dev.claudecage.image.store.Digest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The distribution client against a registry in this JVM, on loopback. */
class RegistryClientTest {

    private static final String MANIFEST = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"}";
    private static final RegistryAccess LOOPBACK_ONLY = new RegistryAccess(List.of());

    @TempDir
    Path work;

    private final FakeRegistry registry = newRegistry();

    private static FakeRegistry newRegistry() {
        try {
            return new FakeRegistry();
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @AfterEach
    void stop() {
        registry.close();
    }

    private RegistryClient client(String repositoryAndTag) {
        return new RegistryClient(ImageReference.parse(registry.hostPort() + "/" + repositoryAndTag), LOOPBACK_ONLY);
    }

    private FakeRegistry.Answer bearerChallenge(String realm) {
        return FakeRegistry.Answer.of(401, "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}",
                "WWW-Authenticate", "Bearer realm=\"" + realm + "\",service=\"fake registry\"");
    }

    /** Answers with {@code answer} only to the token, with the registry's 401 challenge otherwise. */
    private FakeRegistry.Route withToken(String token, FakeRegistry.Answer answer) {
        String realm = "http://" + registry.hostPort() + "/token";
        return request -> ("Bearer " + token).equals(request.authorization()) ? answer : bearerChallenge(realm);
    }

    @Test
    void anAnonymousTokenFromTheChallengesRealmIsFetchedAndSent() {
        registry.route("/v2/", withToken("t0k", FakeRegistry.Answer.of(200, "{}")))
                .route("/token", FakeRegistry.Answer.of(200, "{\"token\":\"t0k\",\"expires_in\":300}"))
                .route("/v2/it/img/manifests/1", withToken("t0k", FakeRegistry.Answer.of(200, MANIFEST,
                        "Content-Type", "application/vnd.oci.image.manifest.v1+json",
                        "Docker-Content-Digest", Digest.of(MANIFEST).toString())));
        RegistryClient client = client("it/img:1");
        client.ping();
        RegistryClient.Manifest manifest = client.manifest("1");

        assertEquals("application/vnd.oci.image.manifest.v1+json", manifest.mediaType());
        assertEquals(Digest.of(MANIFEST), manifest.digest());
        List<FakeRegistry.Request> requests = registry.requests();
        assertEquals(new FakeRegistry.Request("GET", "/v2/", null), requests.get(0));
        assertEquals(new FakeRegistry.Request("GET", "/token?service=fake+registry&scope=repository%3Ait%2Fimg%3Apull",
                null), requests.get(1));
        assertEquals(new FakeRegistry.Request("GET", "/v2/it/img/manifests/1", "Bearer t0k"), requests.get(2));
        assertEquals(3, requests.size());
    }

    @Test
    void aTokenThatExpiresIsRenewedOnceOnA401() {
        int[] issued = {0};
        registry.route("/v2/", FakeRegistry.Answer.of(200, "{}"))
                .route("/token", request -> FakeRegistry.Answer.of(200, "{\"access_token\":\"t" + ++issued[0] + "\"}"))
                .route("/v2/it/img/manifests/1", withToken("t1", FakeRegistry.Answer.of(200, MANIFEST,
                        "Content-Type", "application/vnd.oci.image.manifest.v1+json")));
        RegistryClient client = client("it/img:1");
        client.ping();
        client.manifest("1");
        assertEquals(List.of("/v2/", "/v2/it/img/manifests/1", "/token?service=fake+registry&scope=repository%3Ait%2Fimg%3Apull",
                "/v2/it/img/manifests/1"), registry.requests().stream().map(FakeRegistry.Request::pathAndQuery).toList());
    }

    private static final RegistryCredentials ALICE = new RegistryCredentials("alice", "s3cret", Path.of("/auth.json"));
    private static final String ALICE_BASIC = "Basic " + java.util.Base64.getEncoder().encodeToString(
            "alice:s3cret".getBytes(java.nio.charset.StandardCharsets.UTF_8));

    private RegistryClient clientWith(RegistryCredentials credentials, String repositoryAndTag) {
        return new RegistryClient(ImageReference.parse(registry.hostPort() + "/" + repositoryAndTag), LOOPBACK_ONLY,
                java.util.Optional.of(credentials));
    }

    @Test
    void aRegistryThatWantsAPasswordIsRefusedWithAWayOutWhenThereAreNoCredentials() {
        registry.route("/v2/", FakeRegistry.Answer.of(401, "", "WWW-Authenticate", "Basic realm=\"Registry Realm\""));
        UserInputException e = assertThrows(UserInputException.class, () -> client("it/img:1").ping());
        assertTrue(e.getMessage().contains("wants credentials (auth schemes [basic]) and claude-cage found no credentials for "
                + registry.hostPort() + " in the auth files"), e.getMessage());
        assertTrue(e.hint().contains("podman login") && e.hint().contains("REGISTRY_AUTH_FILE")
                && e.hint().contains("claude-cage image import"), e.hint());
    }

    @Test
    void aBasicChallengeIsAnsweredWithTheCredentialsOnEveryRequest() {
        FakeRegistry.Answer challenge = FakeRegistry.Answer.of(401, "", "WWW-Authenticate", "Basic realm=\"Registry Realm\"");
        registry.route("/v2/", request -> ALICE_BASIC.equals(request.authorization()) ? FakeRegistry.Answer.of(200, "{}")
                        : challenge)
                .route("/v2/it/img/manifests/1", request -> ALICE_BASIC.equals(request.authorization())
                        ? FakeRegistry.Answer.of(200, MANIFEST, "Content-Type", "application/vnd.oci.image.manifest.v1+json")
                        : challenge);
        RegistryClient client = clientWith(ALICE, "it/img:1");
        client.ping();
        client.manifest("1");
        assertEquals(List.of(new FakeRegistry.Request("GET", "/v2/", null),
                new FakeRegistry.Request("GET", "/v2/it/img/manifests/1", ALICE_BASIC)), registry.requests());
    }

    @Test
    void theTokenServiceGetsTheCredentialsAndTheRegistryOnlyTheToken() {
        registry.route("/v2/", bearerChallenge("http://" + registry.hostPort() + "/token"))
                .route("/token", request -> ALICE_BASIC.equals(request.authorization())
                        ? FakeRegistry.Answer.of(200, "{\"token\":\"private\"}") : FakeRegistry.Answer.of(401, "{}"))
                .route("/v2/it/secret/manifests/1", withToken("private", FakeRegistry.Answer.of(200, MANIFEST,
                        "Content-Type", "application/vnd.oci.image.manifest.v1+json")));
        RegistryClient client = clientWith(ALICE, "it/secret:1");
        client.ping();
        client.manifest("1");
        List<FakeRegistry.Request> requests = registry.requests();
        assertEquals(ALICE_BASIC, requests.get(1).authorization());
        assertEquals("Bearer private", requests.get(2).authorization());
    }

    @Test
    void credentialsAreNeverSentOverPlainHttpBeyondLoopback() {
        // The token service is on an insecure_registries host: a pull may go there unencrypted, a password may not.
        registry.route("/v2/", bearerChallenge("http://registry.lan/token"));
        RegistryClient client = new RegistryClient(ImageReference.parse(registry.hostPort() + "/it/img:1"),
                new RegistryAccess(List.of("registry.lan")), java.util.Optional.of(ALICE));
        UserInputException e = assertThrows(UserInputException.class, client::ping);
        assertTrue(e.getMessage().contains("the token service of " + registry.hostPort() + " speaks plain HTTP at "
                + "registry.lan") && e.getMessage().contains("over HTTPS or to loopback only"), e.getMessage());
        assertEquals(1, registry.requests().size(), "nothing went to the token service");
    }

    @Test
    void refusedCredentialsAreNamedWithTheirFileButNotTheirSecret() {
        registry.route("/v2/", bearerChallenge("http://" + registry.hostPort() + "/token"))
                .route("/token", FakeRegistry.Answer.of(401, "{\"details\":\"bad password\"}"));
        UserInputException e = assertThrows(UserInputException.class, () -> clientWith(ALICE, "it/secret:1").ping());
        assertTrue(e.getMessage().contains("refused to let it/secret be pulled with the credentials of alice from "
                + "/auth.json (401 "), e.getMessage());
        assertFalse(e.getMessage().contains("s3cret") || e.hint().contains("s3cret"), e.getMessage());
    }

    @Test
    void aTokenServiceThatRefusesSaysThatTheImageIsPrivateOrMissing() {
        registry.route("/v2/", bearerChallenge("http://" + registry.hostPort() + "/token"))
                .route("/token", FakeRegistry.Answer.of(403, "{\"details\":\"access denied\"}"));
        UserInputException e = assertThrows(UserInputException.class, () -> client("it/secret:1").ping());
        assertTrue(e.getMessage().startsWith("the token service of " + registry.hostPort() + " (" + registry.hostPort()
                + ") refused to let it/secret be pulled anonymously (403 "), e.getMessage());
        assertTrue(e.getMessage().endsWith("the repository is private, or does not exist"), e.getMessage());
    }

    @Test
    void a401AfterTheTokenMeansPrivate() {
        registry.route("/v2/", FakeRegistry.Answer.of(200, "{}"))
                .route("/token", FakeRegistry.Answer.of(200, "{\"token\":\"useless\"}"))
                .route("/v2/it/img/manifests/1", request -> bearerChallenge("http://" + registry.hostPort() + "/token"));
        RegistryClient client = client("it/img:1");
        client.ping();
        UserInputException e = assertThrows(UserInputException.class, () -> client.manifest("1"));
        assertTrue(e.getMessage().contains("refused to let it/img be pulled anonymously (401 UNAUTHORIZED: "),
                e.getMessage());
    }

    @Test
    void anUnknownManifestNamesTheImageAndTheRegistrysWords() {
        registry.route("/v2/", FakeRegistry.Answer.of(200, "{}")).route("/v2/it/img/manifests/nope",
                FakeRegistry.Answer.of(404, "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\"}]}"));
        RegistryClient client = client("it/img:nope");
        client.ping();
        UserInputException e = assertThrows(UserInputException.class, () -> client.manifest("nope"));
        assertEquals(registry.hostPort() + " has no image it/img:nope (MANIFEST_UNKNOWN: manifest unknown)", e.getMessage());
    }

    @Test
    void aManifestThatDoesNotMatchItsDigestIsRefused() {
        String other = Digest.of("something else").toString();
        registry.route("/v2/it/img/manifests/1", FakeRegistry.Answer.of(200, MANIFEST, "Docker-Content-Digest", other))
                .route("/v2/it/img/manifests/" + other, FakeRegistry.Answer.of(200, MANIFEST));
        CageException byTag = assertThrows(CageException.class, () -> client("it/img:1").manifest("1"));
        assertTrue(byTag.getMessage().contains("does not match its digest " + other), byTag.getMessage());
        CageException byDigest = assertThrows(CageException.class, () -> client("it/img:1").manifest(other));
        assertTrue(byDigest.getMessage().contains("does not match its digest " + other), byDigest.getMessage());
    }

    @Test
    void aManifestSentAsPlainJsonIsKnownByItsMediaTypeField() {
        registry.route("/v2/it/img/manifests/1", FakeRegistry.Answer.of(200, MANIFEST, "Content-Type", "application/json"));
        assertEquals("application/vnd.oci.image.manifest.v1+json", client("it/img:1").manifest("1").mediaType());
    }

    @Test
    void aBlobIsSavedWhenItMatchesItsDigestAndRefusedAndRemovedWhenNot() throws Exception {
        byte[] content = "layer bytes".getBytes(StandardCharsets.UTF_8);
        Digest good = Digest.of(content);
        Digest claimed = Digest.of("other bytes");
        registry.route("/v2/it/img/blobs/" + good, new FakeRegistry.Answer(200, java.util.Map.of(), content))
                .route("/v2/it/img/blobs/" + claimed, new FakeRegistry.Answer(200, java.util.Map.of(), content));
        RegistryClient client = client("it/img:1");

        Path saved = work.resolve("good");
        client.blob(good, content.length, saved);
        assertEquals("layer bytes", Files.readString(saved));

        Path damaged = work.resolve("damaged");
        CageException e = assertThrows(CageException.class, () -> client.blob(claimed, content.length, damaged));
        assertEquals("the blob " + claimed + " from " + registry.hostPort() + " does not match its digest: got "
                + content.length + " bytes with the digest " + good + "; it was refused and nothing was stored", e.getMessage());
        assertFalse(Files.exists(damaged));

        Path tooLong = work.resolve("too-long");
        CageException longer = assertThrows(CageException.class, () -> client.blob(good, 4, tooLong));
        assertTrue(longer.getMessage().contains("more than the 4 bytes the manifest says"), longer.getMessage());
        assertFalse(Files.exists(tooLong));
    }

    @Test
    void aBlobRedirectedToStorageElsewhereIsFetchedWithoutTheRegistrysToken() throws Exception {
        byte[] content = "stored elsewhere".getBytes(StandardCharsets.UTF_8);
        Digest digest = Digest.of(content);
        try (FakeRegistry storage = new FakeRegistry()) {
            String storageUrl = "http://localhost:" + storage.hostPort().split(":")[1] + "/bucket/" + digest.hex() + "?sig=1";
            storage.route("/bucket/" + digest.hex(), new FakeRegistry.Answer(200, java.util.Map.of(), content));
            registry.route("/v2/", withToken("t0k", FakeRegistry.Answer.of(200, "{}")))
                    .route("/token", FakeRegistry.Answer.of(200, "{\"token\":\"t0k\"}"))
                    .route("/v2/it/img/blobs/" + digest, withToken("t0k", FakeRegistry.Answer.of(307, "",
                            "Location", storageUrl)));
            RegistryClient client = client("it/img:1");
            client.ping();
            client.blob(digest, content.length, work.resolve("blob"));

            assertEquals("stored elsewhere", Files.readString(work.resolve("blob")));
            assertEquals("Bearer t0k", registry.requests().get(registry.requests().size() - 1).authorization());
            assertEquals(List.of(new FakeRegistry.Request("GET", "/bucket/" + digest.hex() + "?sig=1", null)),
                    storage.requests());
        }
    }

    @Test
    void anUnreachableRegistrySaysWhereItLookedAndWhatToCheck() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        RegistryClient client = new RegistryClient(ImageReference.parse("127.0.0.1:" + closedPort + "/it/img"),
                LOOPBACK_ONLY);
        CageException e = assertThrows(CageException.class, client::ping);
        assertEquals("cannot reach the registry at http://127.0.0.1:" + closedPort + " (connection refused or no route)",
                e.getMessage());
        assertEquals("check the name, the port and that the registry runs", e.hint());
    }

    @Test
    void plainHttpOnlyForLoopbackAndListedRegistries() {
        assertEquals("https://registry-1.docker.io", new RegistryClient(ImageReference.parse("debian"), LOOPBACK_ONLY)
                .base().toString());
        assertEquals("https://registry.lan:5000", new RegistryClient(ImageReference.parse("registry.lan:5000/x"),
                LOOPBACK_ONLY).base().toString());
        RegistryAccess listed = new RegistryAccess(List.of("registry.lan:5000", "192.168.1.20"));
        assertEquals("http://registry.lan:5000", new RegistryClient(ImageReference.parse("registry.lan:5000/x"), listed)
                .base().toString());
        assertEquals("https://registry.lan:5001", new RegistryClient(ImageReference.parse("registry.lan:5001/x"), listed)
                .base().toString());
        assertEquals("http://192.168.1.20:80", new RegistryClient(ImageReference.parse("192.168.1.20:80/x"), listed)
                .base().toString());
        assertEquals("http://localhost:5000", new RegistryClient(ImageReference.parse("localhost:5000/x"), LOOPBACK_ONLY)
                .base().toString());
        assertTrue(LOOPBACK_ONLY.plainHttp("[::1]", 5000));
        assertFalse(LOOPBACK_ONLY.plainHttp("127.example.com", 5000));
    }

    @Test
    void aTokenServiceOnPlainHttpElsewhereIsRefused() {
        registry.route("/v2/", bearerChallenge("http://auth.example/token"));
        CageException e = assertThrows(CageException.class, () -> client("it/img:1").ping());
        assertTrue(e.getMessage().endsWith("sends the token service to http://auth.example; claude-cage speaks plain HTTP "
                + "only to loopback and to the hosts in the insecure_registries configuration key"), e.getMessage());
        assertNull(registry.requests().get(0).authorization());
        assertEquals(1, registry.requests().size());
    }
}
