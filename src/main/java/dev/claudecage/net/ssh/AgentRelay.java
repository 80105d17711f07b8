package dev.claudecage.net.ssh;

import dev.claudecage.CageException;
import dev.claudecage.net.AcceptLoop;
import dev.claudecage.net.AuditEvent;

import java.io.EOFException;
import java.io.IOException;
import java.net.ProtocolException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.Consumer;

/**
 * The SSH agent as the cage sees it: a Unix socket in front of the host's agent that passes on
 * only two requests. Listing keys is passed on as it is. A signature is passed on only when the
 * cage's ssh has bound this agent connection, with OpenSSH's {@code session-bind@openssh.com}
 * (ssh 8.9 and later send it), to a session with a server whose host key belongs to a host in
 * {@code ssh_agent_hosts}: the relay checks the server's signature over the session identifier
 * itself, and that the data to sign is the user authentication for exactly that session. So the
 * agent can log the cage in to the listed hosts, and to nothing else: not a server reached some
 * other way, not a host behind a listed one, not a signature for any other purpose. Adding,
 * removing and locking keys are refused. Every signature, given or refused, is audited.
 */
public final class AgentRelay implements AutoCloseable {

    public static final String AUDIT_SOURCE = "ssh-agent";

    private static final int MAX_MESSAGE_BYTES = 256 * 1024;
    private static final int FAILURE = 5;
    private static final int SUCCESS = 6;
    private static final int REQUEST_IDENTITIES = 11;
    private static final int SIGN_REQUEST = 13;
    private static final int EXTENSION = 27;
    private static final int USERAUTH_REQUEST = 50;
    private static final String SESSION_BIND = "session-bind@openssh.com";
    private static final String HOSTBOUND_PUBLICKEY = "publickey-hostbound-v00@openssh.com";
    private static final int MAX_CONNECTIONS = 16;

    /**
     * One session-bind: which listed host the server's key belongs to (null: none, or a bind that did
     * not verify), the key, the session. Whether the bind was for a forwarded agent does not matter:
     * every server in the chain must be a listed host.
     */
    private record Binding(String host, byte[] hostKey, byte[] sessionId) {
    }

    private final Path hostAgent;
    private final KnownHosts knownHosts;
    private final Consumer<AuditEvent> audit;
    private AcceptLoop<SocketChannel> loop;

    private AgentRelay(Path hostAgent, KnownHosts knownHosts, Consumer<AuditEvent> audit) {
        this.hostAgent = hostAgent;
        this.knownHosts = knownHosts;
        this.audit = audit;
    }

    /**
     * Listens on {@code socket} (which must not exist) and relays to the agent at {@code hostAgent}.
     *
     * @param knownHosts the keys of the hosts the agent may sign for
     */
    public static AgentRelay start(Path socket, Path hostAgent, KnownHosts knownHosts, Consumer<AuditEvent> audit) {
        ServerSocketChannel server;
        try {
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            throw new CageException("cannot listen on " + socket + " for the SSH agent relay: " + e.getMessage());
        }
        AgentRelay relay = new AgentRelay(hostAgent, knownHosts, audit);
        relay.loop = AcceptLoop.start("cage-ssh-agent", server, server::accept, MAX_CONNECTIONS, relay::serve,
                cage -> { });
        return relay;
    }

    @Override
    public void close() {
        loop.close();
    }

    private void serve(SocketChannel cage) {
        try (cage; SocketChannel agent = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            agent.connect(UnixDomainSocketAddress.of(hostAgent));
            List<Binding> bindings = new ArrayList<>();
            while (true) {
                byte[] request;
                try {
                    request = readMessage(cage);
                } catch (EOFException e) {
                    return;
                }
                writeMessage(cage, answer(request, agent, bindings));
            }
        } catch (IOException e) {
            // The cage or the host's agent went away; a refused request was audited when it was refused.
        }
    }

    private byte[] answer(byte[] request, SocketChannel agent, List<Binding> bindings) throws IOException {
        int type = request.length == 0 ? -1 : request[0] & 0xff;
        switch (type) {
            case REQUEST_IDENTITIES -> {
                writeMessage(agent, request);
                return readMessage(agent);
            }
            case SIGN_REQUEST -> {
                String refusal = signRefusal(request, bindings);
                String keyText = keyFingerprint(request);
                Binding last = bindings.isEmpty() ? null : bindings.get(bindings.size() - 1);
                String destination = last == null ? null : last.host() != null ? last.host() : fingerprint(last.hostKey());
                if (refusal != null) {
                    record(destination, AuditEvent.DENIED, "refused to sign with " + keyText + ": " + refusal);
                    return new byte[] {FAILURE};
                }
                writeMessage(agent, request);
                byte[] response = readMessage(agent);
                boolean signed = response.length > 0 && response[0] == 14;
                record(destination, AuditEvent.ALLOWED, (signed ? "signed with " : "the host's agent refused to sign with ")
                        + keyText + " for a connection to " + destination);
                return response;
            }
            case EXTENSION -> {
                return extension(request, bindings);
            }
            default -> {
                record(null, AuditEvent.DENIED, "refused agent request " + type
                        + ": the relay only lists keys and signs for ssh_agent_hosts");
                return new byte[] {FAILURE};
            }
        }
    }

    private byte[] extension(byte[] request, List<Binding> bindings) {
        try {
            SshReader reader = new SshReader(request);
            reader.readByte();
            String name = reader.readText();
            if (!name.equals(SESSION_BIND)) {
                return new byte[] {FAILURE};
            }
            byte[] hostKey = reader.readString();
            byte[] sessionId = reader.readString();
            byte[] signature = reader.readString();
            reader.readBoolean();
            if (!HostKeySignatures.verify(hostKey, signature, sessionId)) {
                // A forged bind: nothing more is signed on this connection.
                bindings.add(new Binding(null, hostKey, sessionId));
                record(fingerprint(hostKey), AuditEvent.DENIED, "session-bind whose host key signature does not verify");
                return new byte[] {FAILURE};
            }
            bindings.add(new Binding(knownHosts.hostOf(hostKey), hostKey, sessionId));
            return new byte[] {SUCCESS};
        } catch (ProtocolException e) {
            return new byte[] {FAILURE};
        }
    }

    /** Why this signature must not be given, or null when it may. */
    private String signRefusal(byte[] request, List<Binding> bindings) {
        if (bindings.isEmpty()) {
            return "the request is not bound to an SSH session (session-bind@openssh.com, ssh 8.9 or later); "
                    + "the forwarded agent signs only logins to ssh_agent_hosts";
        }
        for (Binding binding : bindings) {
            if (binding.host() == null) {
                return "the session is with a server whose host key " + fingerprint(binding.hostKey())
                        + " belongs to no host in ssh_agent_hosts";
            }
        }
        try {
            SshReader reader = new SshReader(request);
            reader.readByte();
            byte[] key = reader.readString();
            SshReader data = new SshReader(reader.readString());
            byte[] sessionId = data.readString();
            Binding last = bindings.get(bindings.size() - 1);
            if (!MessageDigest.isEqual(sessionId, last.sessionId()) || data.readByte() != USERAUTH_REQUEST) {
                return "the data to sign is not the user authentication of the bound session";
            }
            data.readString();
            data.readString();
            String method = data.readText();
            boolean hostBound = method.equals(HOSTBOUND_PUBLICKEY);
            if (!(hostBound || method.equals("publickey")) || !data.readBoolean()) {
                return "the data to sign is not a public key authentication";
            }
            data.readString();
            if (!MessageDigest.isEqual(data.readString(), key)) {
                return "the data to sign names another key";
            }
            // ssh 8.9+ also names the server's host key in what it signs: it must be the bound one.
            if (hostBound && !MessageDigest.isEqual(data.readString(), last.hostKey())) {
                return "the data to sign names another server's host key than the bound session's";
            }
            return null;
        } catch (ProtocolException e) {
            return "the data to sign is not the user authentication of the bound session: " + e.getMessage();
        }
    }

    private static String keyFingerprint(byte[] signRequest) {
        try {
            SshReader reader = new SshReader(signRequest);
            reader.readByte();
            return "key " + fingerprint(reader.readString());
        } catch (ProtocolException e) {
            return "an unreadable key";
        }
    }

    /** As ssh-keygen -l prints it: SHA256:base64 without padding. */
    static String fingerprint(byte[] blob) {
        try {
            return "SHA256:" + Base64.getEncoder().withoutPadding()
                    .encodeToString(MessageDigest.getInstance("SHA-256").digest(blob));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private void record(String destination, String decision, String reason) {
        audit.accept(new AuditEvent(Instant.now(), AUDIT_SOURCE, destination, null, decision, reason, null, null));
    }

    private static byte[] readMessage(SocketChannel channel) throws IOException {
        ByteBuffer length = ByteBuffer.allocate(4);
        readFully(channel, length, true);
        int size = length.flip().getInt();
        if (size < 0 || size > MAX_MESSAGE_BYTES) {
            throw new ProtocolException("an agent message of " + size + " bytes");
        }
        ByteBuffer body = ByteBuffer.allocate(size);
        readFully(channel, body, false);
        return body.array();
    }

    private static void readFully(SocketChannel channel, ByteBuffer buffer, boolean startOfMessage) throws IOException {
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) {
                throw startOfMessage && buffer.position() == 0 ? new EOFException() : new ProtocolException("cut off");
            }
        }
    }

    private static void writeMessage(SocketChannel channel, byte[] message) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(4 + message.length).putInt(message.length).put(message).flip();
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }
}
