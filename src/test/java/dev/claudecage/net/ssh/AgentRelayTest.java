package dev.claudecage.net.ssh;

import dev.claudecage.net.AuditEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The relay's decisions, message by message, against a fake host agent that counts what reaches it:
 * a forged session-bind, a bind to an unlisted server, signing data of another session, other
 * agent requests; and the one allowed case. The whole path with real OpenSSH is SshAgentRelayIT's.
 */
class AgentRelayTest {

    private static final byte[] USER_KEY = blob("ssh-ed25519", new byte[32]);

    @TempDir
    Path dir;

    private final List<AuditEvent> events = new CopyOnWriteArrayList<>();
    private final AtomicInteger signaturesGiven = new AtomicInteger();
    private ServerSocketChannel fakeAgent;
    private AgentRelay relay;
    private KeyPair listedHost;
    private KeyPair otherHost;

    @BeforeEach
    void start() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("Ed25519");
        listedHost = generator.generateKeyPair();
        otherHost = generator.generateKeyPair();
        Path knownHosts = dir.resolve("known_hosts");
        Files.writeString(knownHosts, "git.test ssh-ed25519 " + Base64.getEncoder().encodeToString(hostBlob(listedHost))
                + "\nother.test ssh-ed25519 " + Base64.getEncoder().encodeToString(hostBlob(otherHost)) + "\n");
        Path agentSocket = dir.resolve("agent.sock");
        fakeAgent = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        fakeAgent.bind(UnixDomainSocketAddress.of(agentSocket));
        Thread agent = new Thread(this::answerAsAgent, "fake-agent");
        agent.setDaemon(true);
        agent.start();
        relay = AgentRelay.start(dir.resolve("relay.sock"), agentSocket,
                KnownHosts.read(List.of(knownHosts), List.of("git.test")), events::add);
    }

    @AfterEach
    void stop() throws IOException {
        relay.close();
        fakeAgent.close();
    }

    /** Answers every sign request with a (fake) signature, every other request with an empty key list. */
    private void answerAsAgent() {
        while (fakeAgent.isOpen()) {
            try (SocketChannel connection = fakeAgent.accept()) {
                while (true) {
                    byte[] request = read(connection);
                    if (request[0] == 13) {
                        signaturesGiven.incrementAndGet();
                        write(connection, new byte[] {14, 0, 0, 0, 0});
                    } else {
                        write(connection, new byte[] {12, 0, 0, 0, 0});
                    }
                }
            } catch (IOException e) {
                // The relay closed its connection, or the test ended.
            }
        }
    }

    private static byte[] hostBlob(KeyPair pair) {
        byte[] encoded = pair.getPublic().getEncoded();
        return blob("ssh-ed25519", Arrays.copyOfRange(encoded, encoded.length - 32, encoded.length));
    }

    private static byte[] blob(String type, byte[] key) {
        return concat(string(type.getBytes(StandardCharsets.US_ASCII)), string(key));
    }

    private static byte[] sessionBind(KeyPair signer, byte[] hostKey, byte[] sessionId) throws Exception {
        Signature signature = Signature.getInstance("Ed25519");
        signature.initSign(signer.getPrivate());
        signature.update(sessionId);
        byte[] signatureBlob = blob("ssh-ed25519", signature.sign());
        return concat(new byte[] {27}, string("session-bind@openssh.com".getBytes(StandardCharsets.US_ASCII)),
                string(hostKey), string(sessionId), string(signatureBlob), new byte[] {0});
    }

    private static byte[] signRequest(byte[] sessionId, byte[] hostKey) {
        byte[] data = concat(string(sessionId), new byte[] {50}, string("git".getBytes(StandardCharsets.US_ASCII)),
                string("ssh-connection".getBytes(StandardCharsets.US_ASCII)),
                string("publickey-hostbound-v00@openssh.com".getBytes(StandardCharsets.US_ASCII)), new byte[] {1},
                string("ssh-ed25519".getBytes(StandardCharsets.US_ASCII)), string(USER_KEY), string(hostKey));
        return concat(new byte[] {13}, string(USER_KEY), string(data), new byte[] {0, 0, 0, 0});
    }

    private byte[] exchange(SocketChannel channel, byte[] request) throws IOException {
        write(channel, request);
        return read(channel);
    }

    private SocketChannel connect() throws IOException {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(dir.resolve("relay.sock")));
        return channel;
    }

    @Test
    void aLoginToTheListedHostIsSignedAndAudited() throws Exception {
        byte[] session = "session-one".getBytes(StandardCharsets.US_ASCII);
        try (SocketChannel cage = connect()) {
            assertEquals(12, exchange(cage, new byte[] {11})[0], "listing keys passes");
            assertEquals(6, exchange(cage, sessionBind(listedHost, hostBlob(listedHost), session))[0]);
            assertEquals(14, exchange(cage, signRequest(session, hostBlob(listedHost)))[0]);
        }
        assertEquals(1, signaturesGiven.get());
        assertEquals(AuditEvent.ALLOWED, events.get(0).decision());
        assertEquals("git.test", events.get(0).destination());
    }

    @Test
    void everythingElseIsRefusedBeforeTheHostAgentSeesIt() throws Exception {
        byte[] session = "session-two".getBytes(StandardCharsets.US_ASCII);
        try (SocketChannel cage = connect()) {
            assertEquals(5, exchange(cage, signRequest(session, hostBlob(listedHost)))[0], "no bind yet");
            assertEquals(5, exchange(cage, new byte[] {17, 0, 0, 0, 0})[0], "adding a key");
            assertEquals(5, exchange(cage, new byte[] {22, 0, 0, 0, 0})[0], "locking the agent");
        }
        try (SocketChannel cage = connect()) {
            // The other host's key, signed by the other host: a real session, with a server not listed.
            assertEquals(6, exchange(cage, sessionBind(otherHost, hostBlob(otherHost), session))[0]);
            assertEquals(5, exchange(cage, signRequest(session, hostBlob(otherHost)))[0]);
        }
        try (SocketChannel cage = connect()) {
            // The listed host's key claimed for a session it never signed.
            assertEquals(5, exchange(cage, sessionBind(otherHost, hostBlob(listedHost), session))[0]);
            assertEquals(5, exchange(cage, signRequest(session, hostBlob(listedHost)))[0]);
        }
        try (SocketChannel cage = connect()) {
            // A genuine bind, then data of another session.
            assertEquals(6, exchange(cage, sessionBind(listedHost, hostBlob(listedHost), session))[0]);
            assertEquals(5, exchange(cage, signRequest("elsewhere".getBytes(StandardCharsets.US_ASCII),
                    hostBlob(listedHost)))[0]);
        }
        assertEquals(0, signaturesGiven.get());
        assertTrue(events.stream().allMatch(event -> event.decision().equals(AuditEvent.DENIED)), events.toString());
        assertTrue(events.stream().anyMatch(event -> event.reason().contains("does not verify")), events.toString());
        assertTrue(events.stream().anyMatch(event -> event.reason().contains("belongs to no host in ssh_agent_hosts")),
                events.toString());
    }

    @Test
    void knownHostsMatchesPlainBracketedAndHashedNamesAndHonoursRevocation() throws Exception {
        javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA1");
        byte[] salt = new byte[20];
        mac.init(new javax.crypto.spec.SecretKeySpec(salt, "HmacSHA1"));
        String hashed = "|1|" + Base64.getEncoder().encodeToString(salt) + "|"
                + Base64.getEncoder().encodeToString(mac.doFinal("hashed.test".getBytes(StandardCharsets.US_ASCII)));
        assertTrue(KnownHosts.matches("a.test,git.test", "git.test"));
        assertTrue(KnownHosts.matches("[git.test]:2222", "git.test"));
        assertTrue(KnownHosts.matches(hashed, "hashed.test"));
        assertTrue(!KnownHosts.matches(hashed, "git.test") && !KnownHosts.matches("*.test", "git.test"));
        String key = Base64.getEncoder().encodeToString(hostBlob(listedHost));
        Path file = dir.resolve("known_hosts_revoked");
        Files.writeString(file, "git.test ssh-ed25519 " + key + "\n@revoked * ssh-ed25519 " + key + "\n");
        assertEquals(java.util.Map.of(), KnownHosts.read(List.of(file, dir.resolve("missing")), List.of("git.test"))
                .keyCounts());
    }

    private static byte[] string(byte[] value) {
        return concat(ByteBuffer.allocate(4).putInt(value.length).array(), value);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    private static byte[] read(SocketChannel channel) throws IOException {
        ByteBuffer length = ByteBuffer.allocate(4);
        while (length.hasRemaining()) {
            if (channel.read(length) < 0) {
                throw new IOException("closed");
            }
        }
        ByteBuffer body = ByteBuffer.allocate(length.flip().getInt());
        while (body.hasRemaining()) {
            if (channel.read(body) < 0) {
                throw new IOException("closed");
            }
        }
        return body.array();
    }

    private static void write(SocketChannel channel, byte[] message) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(4 + message.length).putInt(message.length).put(message).flip();
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }
}
