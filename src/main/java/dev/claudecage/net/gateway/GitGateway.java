package dev.claudecage.net.gateway;

import dev.claudecage.CageException;
import dev.claudecage.Teardown;
import dev.claudecage.UserInputException;
import dev.claudecage.config.GitAccessRules;
import dev.claudecage.config.GitCredential;
import dev.claudecage.host.UntrustedText;
import dev.claudecage.net.AcceptLoop;
import dev.claudecage.net.AuditEvent;
import dev.claudecage.net.EgressPolicy;
import dev.claudecage.net.NameResolver;
import dev.claudecage.net.http.BodyFraming;
import dev.claudecage.net.http.ChunkedOutputStream;
import dev.claudecage.net.http.Counted;
import dev.claudecage.net.http.HttpHead;
import dev.claudecage.net.http.PlainResponse;
import dev.claudecage.net.http.WatchedInputStream;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * The per-session git gateway: git over HTTPS with the user's token, which never enters the cage.
 * Git in the cage is pointed here by {@code url.<gateway>/<placeholder>/<host>/.insteadOf https://<host>/}
 * (see {@link #gitConfig}), so it sends plain HTTP to {@code http://GW:PORT/<placeholder>/<host>/<path>}.
 * The gateway accepts only the session's placeholder, only hosts that have a git credential and
 * that the policy allows on 443, and only git's smart-HTTP requests; it resolves the host as the
 * proxy does (pinned names, rebinding guard), opens TLS to it with the host name verified, and
 * sends the request with {@code Authorization: Basic} built from the token, fetched on the host for
 * this request only. Responses come back with any echo of the token masked, in every form it could
 * take ({@link SecretForms}: raw, URL-encoded, base64 as in the Basic credentials), and so are error
 * messages. One request per connection, one audit line per request (never the token, never the placeholder).
 *
 * <p>Why a gateway and not the proxy: the proxy sees git's HTTPS only as an end-to-end TLS tunnel,
 * where no header can be added without intercepting TLS (a CA the cage would have to trust, and a
 * proxy that parses every allowed host's traffic). Here the cage speaks plain HTTP to a local
 * endpoint, and TLS with full verification happens on the host side, for the named hosts only.
 */
public final class GitGateway implements AutoCloseable {

    public static final String AUDIT_SOURCE = "git";
    private static final int HTTPS_PORT = 443;
    private static final int AUDITED_PATH_CHARS = 256;
    private static final int BACKLOG = 64;
    private static final int MAX_INTERIM_RESPONSES = 10;
    /** git's smart HTTP protocol: ref discovery, then the pack exchange. Nothing else gets a token. */
    private static final Pattern REF_DISCOVERY = Pattern.compile("/([^?#]*)/info/refs\\?service=git-(upload|receive)-pack");
    private static final Pattern PACK_EXCHANGE = Pattern.compile("/([^?#]*)/git-(upload|receive)-pack");
    /** A repository's path as forges name them, OWNER/NAME or deeper: plain parts only, so that no rule is read around. */
    private static final Pattern REPOSITORY = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*");
    /** Request fields the gateway never forwards: it sets Host and Authorization itself, and asks for identity. */
    private static final Set<String> DROPPED = Set.of("host", "authorization", "cookie", "expect", "accept-encoding");

    /**
     * @param maxConnections   connections handled at once; more are closed at once
     * @param handshakeTimeout for the cage to send a whole request head
     * @param connectTimeout   for the TCP connection and TLS handshake upstream
     * @param idleTimeout      for a relayed request with no byte in either direction
     */
    public record Settings(int maxConnections, Duration handshakeTimeout, Duration connectTimeout, Duration idleTimeout) {
        public Settings {
            if (maxConnections < 1 || handshakeTimeout.isNegative() || handshakeTimeout.isZero() || connectTimeout.isNegative()
                    || connectTimeout.isZero() || idleTimeout.isNegative() || idleTimeout.isZero()) {
                throw new IllegalArgumentException("the git gateway needs at least one connection and positive timeouts");
            }
        }

        public static Settings defaults(int maxConnections) {
            return new Settings(maxConnections, Duration.ofSeconds(10), Duration.ofSeconds(10), Duration.ofMinutes(5));
        }
    }

    private final ServerSocket server;
    private AcceptLoop<Socket> loop;
    private final byte[] placeholder;
    private final Map<String, GitCredential> credentials;
    private final GitAccessRules access;
    private final Function<GitCredential, char[]> tokens;
    private final EgressPolicy policy;
    private final NameResolver resolver;
    private final SSLContext tls;
    private final Consumer<AuditEvent> audit;
    private final Settings settings;

    private GitGateway(ServerSocket server, PlaceholderKey placeholder, List<GitCredential> credentials,
                       GitAccessRules access, Function<GitCredential, char[]> tokens, EgressPolicy policy,
                       NameResolver resolver, SSLContext tls, Consumer<AuditEvent> audit, Settings settings) {
        this.server = server;
        this.placeholder = placeholder.value().getBytes(StandardCharsets.US_ASCII);
        Map<String, GitCredential> byHost = new LinkedHashMap<>();
        credentials.forEach(credential -> byHost.put(credential.host(), credential));
        this.credentials = byHost;
        this.access = access;
        this.tokens = tokens;
        this.policy = policy;
        this.resolver = resolver;
        this.tls = tls;
        this.audit = audit;
        this.settings = settings;
    }

    /**
     * Starts listening.
     *
     * @param access which repositories the cage may fetch and push, and which refs a push may update
     * @param tokens hands out the token for a credential, a fresh array the gateway wipes after use
     * @throws CageException when the address cannot be bound; UserInputException when a credential's host is not
     *                       allowed on 443
     */
    public static GitGateway start(InetSocketAddress bind, PlaceholderKey placeholder, List<GitCredential> credentials,
                                   GitAccessRules access, Function<GitCredential, char[]> tokens, EgressPolicy policy, NameResolver resolver,
                                   SSLContext tls, Consumer<AuditEvent> audit, Settings settings) {
        for (GitCredential credential : credentials) {
            if (!policy.allows(credential.host(), HTTPS_PORT)) {
                throw new UserInputException("git_credentials names " + credential.host() + ", which allowed_hosts does "
                        + "not allow on port 443; add " + credential.host() + " to allowed_hosts, or remove its git credential");
            }
        }
        ServerSocket server;
        try {
            server = new ServerSocket();
            server.setReuseAddress(true);
            server.bind(bind, BACKLOG);
        } catch (IOException e) {
            throw new CageException("cannot listen on " + bind + " for the git gateway: " + e.getMessage(),
                    "another process may hold the port; pick another or stop that process", e);
        }
        GitGateway gateway = new GitGateway(server, placeholder, credentials, access, tokens, policy, resolver, tls,
                audit, settings);
        gateway.loop = AcceptLoop.start("cage-git-gateway", server, server::accept, settings.maxConnections(),
                gateway::serve, cage -> gateway.audit(null, AuditEvent.DENIED, "the connection limit of "
                        + settings.maxConnections() + " open connections is reached", 0, 0));
        return gateway;
    }

    /** The address the gateway listens on, with the port it got. */
    public InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    /**
     * The cage's git configuration, as {@code GIT_CONFIG_COUNT}/{@code KEY_n}/{@code VALUE_n}
     * environment entries: one {@code insteadOf} rewrite per host that has a credential, so that
     * {@code https://HOST/...} goes through the gateway. Other hosts are left alone: git reaches them
     * through the proxy, without a token.
     */
    public static List<String> gitConfig(String gatewayHostPort, PlaceholderKey placeholder, List<GitCredential> credentials) {
        List<String> env = new java.util.ArrayList<>();
        env.add("GIT_CONFIG_COUNT=" + credentials.size());
        for (int i = 0; i < credentials.size(); i++) {
            String host = credentials.get(i).host();
            env.add("GIT_CONFIG_KEY_" + i + "=url.http://" + gatewayHostPort + "/" + placeholder.value() + "/" + host
                    + "/.insteadOf");
            env.add("GIT_CONFIG_VALUE_" + i + "=https://" + host + "/");
        }
        return env;
    }

    @Override
    public void close() {
        loop.close();
    }

    private void serve(Socket cage) {
        try (cage) {
            cage.setTcpNoDelay(true);
            new Exchange(cage).run();
        } catch (IOException e) {
            // The cage went away; the exchange has written its audit line where there was a request to audit.
        }
    }

    /** One request from the cage, from its head to its audit line. */
    private final class Exchange {
        private final Socket cage;
        private final AtomicLong sent = new AtomicLong();
        private final AtomicLong received = new AtomicLong();
        private String host;
        private String what = "";
        private boolean continued;
        private String repository;
        /** Whether the push read has updates the rules allow only as fast-forwards, still to be shown. */
        private boolean unproven;
        /** The push's body while the gateway has not read all of it, or null. */
        private InputStream unreadPush;

        Exchange(Socket cage) {
            this.cage = cage;
        }

        void run() throws IOException {
            InputStream in = new BufferedInputStream(cage.getInputStream());
            OutputStream out = Counted.output(new BufferedOutputStream(cage.getOutputStream()), received::addAndGet);
            cage.setSoTimeout((int) settings.handshakeTimeout().toMillis());
            HttpHead head;
            try {
                head = HttpHead.read(in);
            } catch (ProtocolException e) {
                refuse(out, 400, "malformed request: " + e.getMessage());
                return;
            } catch (IOException e) {
                return;
            }
            String[] parts = head.startLine().split(" ", -1);
            if (parts.length != 3 || !(parts[2].equals("HTTP/1.1") || parts[2].equals("HTTP/1.0"))) {
                refuse(out, 400, "malformed request line: " + UntrustedText.excerpt(head.startLine()));
                return;
            }
            String method = parts[0];
            String target = parts[1];
            String rest = placeholderStripped(target);
            if (rest == null) {
                refuse(out, 401, method + " request without the session's placeholder in its path");
                return;
            }
            int slash = rest.indexOf('/', 1);
            String named = (slash < 0 ? rest.substring(1) : rest.substring(1, slash)).toLowerCase(Locale.ROOT);
            if (!NameResolver.isValidHostName(named)) {
                refuse(out, 400, method + " request for '" + UntrustedText.excerpt(named) + "', which is not a host name");
                return;
            }
            host = named;
            String path = slash < 0 ? "/" : rest.substring(slash);
            what = method + " " + (path.length() > AUDITED_PATH_CHARS ? path.substring(0, AUDITED_PATH_CHARS) + "..." : path);
            GitCredential credential = credentials.get(host);
            if (credential == null) {
                refuse(out, 403, what + ": " + host + " has no git credential; the gateway adds tokens only for "
                        + String.join(", ", credentials.keySet()));
                return;
            }
            GitTarget git = target(method, path);
            if (git == null) {
                refuse(out, 403, what + ": not a git smart-HTTP request (info/refs, git-upload-pack, git-receive-pack)");
                return;
            }
            if (!policy.allows(host, HTTPS_PORT)) {
                refuse(out, 403, what + ": " + host + EgressPolicy.NOT_ALLOWED + " for port 443");
                return;
            }
            if (git.repository() == null) {
                refuse(out, 403, what + ": the repository path is not plain OWNER/NAME (parts of letters, digits, '.', "
                        + "'_' and '-'), which the gateway's rules could not be checked against");
                return;
            }
            repository = git.repository();
            String notAllowed = repositoryRefusal(git);
            if (notAllowed != null) {
                refuse(out, 403, what + ": " + notAllowed);
                return;
            }
            BodyFraming framing;
            try {
                framing = BodyFraming.of(head);
            } catch (ProtocolException e) {
                refuse(out, 400, what + ": malformed request: " + e.getMessage());
                return;
            }
            ReceivePackCommands push = null;
            InputStream body = null;
            if (git.push() && method.equals("POST")) {
                if (head.values("Content-Encoding").stream().anyMatch(value -> !value.equalsIgnoreCase("identity"))) {
                    refuse(out, 403, what + ": a compressed push, whose ref updates the gateway cannot read");
                    return;
                }
                continueIfExpected(head, out);
                cage.setSoTimeout((int) settings.idleTimeout().toMillis());
                body = framing.open(in);
                unreadPush = body;
                try {
                    push = ReceivePackCommands.read(body);
                } catch (ProtocolException e) {
                    refuse(out, 400, what + ": refused, not sent: " + e.getMessage());
                    return;
                }
                if (!decide(git.repository(), push, body, out)) {
                    return;
                }
            } else if (!git.push() && method.equals("POST")) {
                // A fetch's own line beside a push's: which repository the cage read, whatever the request's outcome.
                audit(host, AuditEvent.ALLOWED, "fetch " + repository + ": allowed by the rules", 0, 0);
            }
            NameResolver.Resolution resolution = resolver.resolve(host);
            if (resolution instanceof NameResolver.Refused refused) {
                refuse(out, 403, what + ": " + refused.reason());
                return;
            }
            if (resolution instanceof NameResolver.Failed failed) {
                fail(out, 502, what + ": " + failed.reason());
                return;
            }
            List<InetAddress> addresses = ((NameResolver.Resolved) resolution).addresses();
            forward(in, out, head, framing, method, path, credential, addresses, push, body);
        }

        /** Why the rules refuse this repository to this service, or null when they allow it. */
        private String repositoryRefusal(GitTarget target) {
            if (target.push() && !access.mayPush(target.repository())) {
                return "pushes to " + target.repository() + " are refused: git_push_repositories allows "
                        + String.join(", ", access.pushRepositories()) + " (set on the host, with --git-push-repository)";
            }
            if (!target.push() && !access.mayFetch(target.repository())) {
                return "fetches from " + target.repository() + " are refused: git_fetch_repositories allows "
                        + String.join(", ", access.fetchRepositories()) + " (set on the host, with --git-fetch-repository)";
            }
            return null;
        }

        /**
         * The rules' decision on each of the push's ref updates, one audit line each. When any is refused, nothing
         * is sent upstream: the rest of the body is read and dropped (up to egress_limit) and the cage gets a
         * receive-pack result that refuses them all, with the reasons. True when the push may go on, with
         * {@link #unproven} set when some update must still be shown to be a fast-forward by its pack.
         */
        private boolean decide(String repository, ReceivePackCommands push, InputStream body, OutputStream out)
                throws IOException {
            List<String> reasons = refusals(push.commands(), access);
            boolean refused = reasons.stream().anyMatch(reason -> reason != null && !reason.equals(UNPROVEN));
            unproven = !refused && reasons.contains(UNPROVEN);
            for (int i = 0; i < reasons.size(); i++) {
                String reason = reasons.get(i);
                String line = "push " + repository + " " + push.commands().get(i).describe();
                if (reason == null || reason.equals(UNPROVEN)) {
                    if (!unproven) {
                        audit(host, refused ? AuditEvent.DENIED : AuditEvent.ALLOWED, line + ": "
                                + (refused ? "refused with the rest of the push" : "allowed by the rules"), 0, 0);
                    }
                } else {
                    audit(host, AuditEvent.DENIED, line + ": refused: " + reason, 0, 0);
                }
            }
            if (!refused) {
                return true;
            }
            List<String> shown = reasons.stream().map(reason -> reason == null || reason.equals(UNPROVEN)
                    ? "not applied: another ref update of this push is refused" : reason).toList();
            refusePush(repository, push, shown, out, "nothing was sent to " + host);
            return false;
        }

        /**
         * Sends the push's pack on while reading its commits, all but its last bytes (the pack's checksum, without
         * which the upstream applies nothing); the rest only when every update the rules left to it is a
         * fast-forward through those commits. Otherwise the upstream never gets them, and the cage gets a
         * receive-pack result that says why.
         *
         * @return true when the whole body went upstream
         */
        private boolean sendProvingFastForwards(String repository, ReceivePackCommands push, InputStream body,
                                                OutputStream upstream, OutputStream out) throws IOException {
            HeldBack held = new HeldBack(body, upstream, PackCommits.MAX_ID_BYTES);
            List<String> reasons = refusals(push.commands(), access);
            try {
                if (push.capabilities().contains("push-options")) {
                    ReceivePackCommands.skipPushOptions(held);
                }
                PackCommits pack = PackCommits.read(held, push.commands().get(0).oldId().length());
                for (int i = 0; i < reasons.size(); i++) {
                    ReceivePackCommands.Command command = push.commands().get(i);
                    if (UNPROVEN.equals(reasons.get(i)) && pack.fastForward(command.oldId(), command.newId())) {
                        reasons.set(i, null);
                    }
                }
            } catch (ProtocolException e) {
                reasons.replaceAll(reason -> "claude-cage: the push's pack is not one the gateway can read: "
                        + e.getMessage());
            }
            boolean allowed = reasons.stream().allMatch(reason -> reason == null);
            for (int i = 0; i < reasons.size(); i++) {
                String line = "push " + repository + " " + push.commands().get(i).describe();
                audit(host, allowed ? AuditEvent.ALLOWED : AuditEvent.DENIED, line + ": " + (allowed
                        ? "allowed by the rules, fast-forwards shown by the pack"
                        : reasons.get(i) == null ? "refused with the rest of the push" : "refused: " + reasons.get(i)), 0, 0);
            }
            if (allowed) {
                held.release();
                return true;
            }
            List<String> shown = reasons.stream().map(reason -> reason == null
                    ? "not applied: another ref update of this push is refused" : reason).toList();
            refusePush(repository, push, shown, out, host + " got the pack without its checksum, and so applied "
                    + "nothing");
            return false;
        }

        /** Drains what is left of a refused push, up to egress_limit, and answers it as receive-pack would. */
        private void refusePush(String repository, ReceivePackCommands push, List<String> reasons, OutputStream out,
                                String upstreamFate) throws IOException {
            if (!drainedPush("the refused push")) {
                return;
            }
            List<String> message = new ArrayList<>(List.of("claude-cage git gateway: the push to " + repository
                    + " is refused; " + upstreamFate + "."));
            for (int i = 0; i < reasons.size(); i++) {
                if (!reasons.get(i).startsWith("not applied")) {
                    message.add("  " + push.commands().get(i).ref() + ": " + reasons.get(i));
                }
            }
            message.add("The rules are set on the host: git_push_refs and git_push_force_refs (--git-push-ref, "
                    + "--git-push-force-ref).");
            byte[] result = ReceivePackRefusal.body(push, reasons, String.join("\n", message));
            out.write(("HTTP/1.1 200 OK\r\nContent-Type: " + ReceivePackRefusal.CONTENT_TYPE + "\r\n"
                    + "Cache-Control: no-cache\r\nContent-Length: " + result.length + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(result);
            out.flush();
            audit(host, AuditEvent.DENIED, what + ": refused: " + (reasons.size() == 1 ? "its ref update"
                    : "ref updates") + " the rules do not allow", sent.get(), received.get());
        }

        /** Answers {@code Expect: 100-continue} here: the gateway reads the body before any upstream is asked. */
        private void continueIfExpected(HttpHead head, OutputStream out) throws IOException {
            if (!continued && head.values("Expect").stream().anyMatch(value -> value.equalsIgnoreCase("100-continue"))) {
                out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                continued = true;
            }
        }

        /**
         * @param push the push's ref updates, read already, or null when the body was not read
         * @param body the rest of the body after them, or null
         */
        private void forward(InputStream in, OutputStream out, HttpHead head, BodyFraming framing, String method,
                             String path, GitCredential credential, List<InetAddress> addresses,
                             ReceivePackCommands push, InputStream body) throws IOException {
            String authorization;
            try {
                authorization = basicAuthorization(credential);
            } catch (CageException e) {
                fail(out, 502, what + ": " + e.getMessage());
                return;
            }
            SecretForms token = SecretForms.ofGitToken(credential.user(), tokenOf(authorization));
            SSLSocket upstream;
            try {
                upstream = connect(addresses);
            } catch (IOException e) {
                fail(out, 502, what + ": cannot connect to " + host + ":443: "
                        + token.mask(String.valueOf(e.getMessage())));
                return;
            }
            try (upstream) {
                // The expectation is answered here; the upstream gets the body at once.
                continueIfExpected(head, out);
                int idle = (int) settings.idleTimeout().toMillis();
                cage.setSoTimeout(idle);
                upstream.setSoTimeout(idle);
                OutputStream toUpstream = Counted.output(new BufferedOutputStream(upstream.getOutputStream()), sent::addAndGet);
                HttpHead upstreamHead = head.forOneHop()
                        .without(DROPPED::contains)
                        .withStartLine(method + " " + path + " HTTP/1.1")
                        .with("Host", host)
                        .with("Authorization", authorization)
                        .with("Accept-Encoding", "identity");
                toUpstream.write(upstreamHead.bytes());
                if (push == null) {
                    framing.copy(in, toUpstream);
                } else {
                    // The body again: the ref updates read already, then the rest, in the framing the cage chose.
                    OutputStream upstreamBody = framing.chunked() ? new ChunkedOutputStream(toUpstream) : toUpstream;
                    upstreamBody.write(push.bytes());
                    if (!unproven) {
                        body.transferTo(upstreamBody);
                    } else if (!sendProvingFastForwards(repository, push, body, upstreamBody, out)) {
                        return;
                    }
                    if (upstreamBody instanceof ChunkedOutputStream chunks) {
                        chunks.finish();
                    }
                }
                toUpstream.flush();
                relayResponse(new BufferedInputStream(upstream.getInputStream()), out, method, token);
            } catch (IOException e) {
                allowed(what + ": ended by an error: " + token.mask(String.valueOf(e.getMessage())));
                throw e;
            }
        }

        private void relayResponse(InputStream in, OutputStream out, String method, SecretForms token)
                throws IOException {
            HttpHead head = null;
            for (int interim = 0; interim <= MAX_INTERIM_RESPONSES; interim++) {
                HttpHead read = HttpHead.read(in);
                int status = statusCode(read.startLine());
                if (status >= 200) {
                    head = read;
                    break;
                }
            }
            if (head == null) {
                fail(out, 502, what + ": more than " + MAX_INTERIM_RESPONSES + " interim responses");
                return;
            }
            int status = statusCode(head.startLine());
            if (status == 401) {
                // Relayed as it is, git would ask the cage for a user name and password, which only a person at a
                // terminal could answer; the credential is the host's business, so say so and stop.
                fail(out, 403, what + ": " + host + " refused the token from " + credentials.get(host).sourceDescription()
                        + " (401); renew it on the host");
                return;
            }
            List<String> encodings = head.values("Content-Encoding");
            if (encodings.stream().anyMatch(value -> !value.equalsIgnoreCase("identity"))) {
                fail(out, 502, what + ": the server sent a compressed body despite Accept-Encoding: identity, which "
                        + "the gateway cannot check for the token");
                return;
            }
            HttpHead forCage = head.forOneHop();
            List<HttpHead.Header> clean = forCage.headers().stream()
                    .filter(header -> !token.foundIn(header.name()) && !token.foundIn(header.value())).toList();
            // The reason phrase is the server's text too.
            out.write(new HttpHead(token.mask(forCage.startLine()), clean).bytes());
            SecretForms.Redacting redacted = token.redacting(out);
            boolean hasBody = !method.equals("HEAD") && status != 204 && status != 304;
            boolean framed = !head.values("Transfer-Encoding").isEmpty() || !head.values("Content-Length").isEmpty();
            if (hasBody && framed) {
                BodyFraming.of(head).copy(in, redacted);
            } else if (hasBody) {
                in.transferTo(redacted);
            }
            redacted.finish();
            out.flush();
            allowed(what + " " + status + "; token from " + credentials.get(host).sourceDescription());
        }

        private SSLSocket connect(List<InetAddress> addresses) throws IOException {
            IOException last = null;
            int timeout = (int) settings.connectTimeout().toMillis();
            for (InetAddress address : addresses) {
                Socket plain = new Socket();
                try {
                    plain.connect(new InetSocketAddress(address, HTTPS_PORT), timeout);
                    plain.setSoTimeout(timeout);
                    SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket(plain, host, HTTPS_PORT, true);
                    SSLParameters parameters = socket.getSSLParameters();
                    // The certificate must name the host: this is what keeps the token away from anyone else.
                    parameters.setEndpointIdentificationAlgorithm("HTTPS");
                    parameters.setServerNames(List.of(new SNIHostName(host)));
                    parameters.setApplicationProtocols(new String[] {"http/1.1"});
                    socket.setSSLParameters(parameters);
                    socket.startHandshake();
                    return socket;
                } catch (IOException e) {
                    Teardown.closeQuietly(plain);
                    last = e;
                }
            }
            throw last == null ? new SocketException("no address") : last;
        }

        /**
         * Reads what is left of the push's body, up to egress_limit, before the gateway answers it: a git
         * client still sending its pack to a gateway that closes gets a reset and loses the answer, and
         * with it the reason. False when the push went on past egress_limit: then it is only closed.
         */
        private boolean drainedPush(String which) throws IOException {
            InputStream body = unreadPush;
            unreadPush = null;
            if (body == null) {
                return true;
            }
            long drained = 0;
            byte[] buffer = new byte[64 * 1024];
            for (int read = body.read(buffer); read >= 0; read = body.read(buffer)) {
                drained += read;
                if (drained > policy.egressLimitBytes()) {
                    audit(host, AuditEvent.CUT_OFF, what + ": " + which + " went on past egress_limit", 0, 0);
                    return false;
                }
            }
            return true;
        }

        private void refuse(OutputStream out, int status, String reason) throws IOException {
            if (!drainedPush("the refused push")) {
                return;
            }
            respond(out, status, reason);
            audit(host, AuditEvent.DENIED, reason, sent.get(), received.get());
        }

        private void fail(OutputStream out, int status, String reason) throws IOException {
            if (!drainedPush("the push that could not go on")) {
                return;
            }
            respond(out, status, reason);
            allowed(reason);
        }

        private void allowed(String reason) {
            audit(host, AuditEvent.ALLOWED, reason, sent.get(), received.get());
        }
    }

    /** The target without the leading /PLACEHOLDER, or null when it does not start with it. */
    private String placeholderStripped(String target) {
        if (!target.startsWith("/")) {
            return null;
        }
        int slash = target.indexOf('/', 1);
        if (slash < 0) {
            return null;
        }
        byte[] presented = target.substring(1, slash).getBytes(StandardCharsets.US_ASCII);
        return MessageDigest.isEqual(presented, placeholder) ? target.substring(slash) : null;
    }

    /**
     * A git smart-HTTP request's repository and direction.
     *
     * @param repository the path without its leading '/' and trailing .git, or null when it is not plain
     * @param push       whether it is git-receive-pack's (a push), not git-upload-pack's (a fetch)
     */
    record GitTarget(String repository, boolean push) {
    }

    /** What the request is for, or null when it is not git's smart HTTP. */
    static GitTarget target(String method, String path) {
        Pattern pattern = method.equals("GET") ? REF_DISCOVERY : method.equals("POST") ? PACK_EXCHANGE : null;
        Matcher matcher = pattern == null ? null : pattern.matcher(path);
        if (matcher == null || !matcher.matches()) {
            return null;
        }
        String repository = matcher.group(1);
        if (repository.endsWith(".git")) {
            repository = repository.substring(0, repository.length() - ".git".length());
        }
        return new GitTarget(REPOSITORY.matcher(repository).matches() ? repository : null, matcher.group(2).equals("receive"));
    }

    static boolean isGitRequest(String method, String path) {
        return target(method, path) != null;
    }

    /** Why an update of an existing ref outside git_push_force_refs is refused, unless its pack shows a fast-forward. */
    static final String UNPROVEN = "claude-cage: not shown to be a fast-forward (the pushed commits do not lead from "
            + "the old id to the new one), and a forced update needs git_push_force_refs";

    /**
     * Why the rules refuse each ref update, in order, null where they allow it: a ref outside git_push_refs; a
     * delete outside git_push_force_refs; {@link #UNPROVEN} for an update of a ref that exists, outside
     * git_push_force_refs, which only the push's pack can show to be a fast-forward.
     */
    static List<String> refusals(List<ReceivePackCommands.Command> commands, GitAccessRules access) {
        List<String> reasons = new ArrayList<>();
        for (ReceivePackCommands.Command command : commands) {
            if (!access.mayUpdate(command.ref())) {
                reasons.add("claude-cage: git_push_refs allows only " + String.join(", ", access.pushRefs()));
            } else if (command.deletes() && !access.mayForce(command.ref())) {
                reasons.add("claude-cage: deleting a ref needs git_push_force_refs");
            } else if (!command.creates() && !command.deletes() && !access.mayForce(command.ref())) {
                reasons.add(UNPROVEN);
            } else {
                reasons.add(null);
            }
        }
        return reasons;
    }

    /**
     * What the gateway reads of a body, sent on as it is read but for the last {@code held} bytes, which go only on
     * {@link #release}: a pack's checksum is its last bytes, and a pack without it is one the upstream drops.
     */
    private static final class HeldBack extends WatchedInputStream {
        private final OutputStream out;
        private final byte[] tail;
        private int tailLength;

        HeldBack(InputStream in, OutputStream out, int held) {
            super(in);
            this.out = out;
            this.tail = new byte[held];
        }

        @Override
        protected void passed(byte[] bytes, int offset, int read) throws IOException {
            // Of the held bytes and the new ones together, all but the last tail.length go on now.
            int total = tailLength + read;
            int sendable = Math.max(0, total - tail.length);
            int fromTail = Math.min(sendable, tailLength);
            out.write(tail, 0, fromTail);
            out.write(bytes, offset, sendable - fromTail);
            byte[] kept = new byte[total - sendable];
            int keptFromTail = tailLength - fromTail;
            System.arraycopy(tail, fromTail, kept, 0, keptFromTail);
            System.arraycopy(bytes, offset + sendable - fromTail, kept, keptFromTail, read - (sendable - fromTail));
            System.arraycopy(kept, 0, tail, 0, kept.length);
            tailLength = kept.length;
        }

        /** Sends the held bytes. */
        void release() throws IOException {
            out.write(tail, 0, tailLength);
            tailLength = 0;
        }
    }

    /** The Basic credentials for this request, built from a token fetched now and wiped at once. */
    private String basicAuthorization(GitCredential credential) {
        char[] token = tokens.apply(credential);
        byte[] pair = null;
        try {
            String user = credential.user() + ":";
            pair = new byte[user.length() + token.length];
            System.arraycopy(user.getBytes(StandardCharsets.US_ASCII), 0, pair, 0, user.length());
            for (int i = 0; i < token.length; i++) {
                pair[user.length() + i] = (byte) token[i];
            }
            return "Basic " + Base64.getEncoder().encodeToString(pair);
        } finally {
            Arrays.fill(token, '\0');
            if (pair != null) {
                Arrays.fill(pair, (byte) 0);
            }
        }
    }

    /** The token inside Basic credentials, for masking echoes of it. */
    private static String tokenOf(String authorization) {
        String pair = new String(Base64.getDecoder().decode(authorization.substring("Basic ".length())),
                StandardCharsets.US_ASCII);
        return pair.substring(pair.indexOf(':') + 1);
    }

    private static int statusCode(String statusLine) throws ProtocolException {
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/1.") || !parts[1].matches("[0-9]{3}")) {
            throw new ProtocolException("malformed status line: " + UntrustedText.excerpt(statusLine));
        }
        return Integer.parseInt(parts[1]);
    }

    private static void respond(OutputStream out, int status, String reason) throws IOException {
        PlainResponse.write(out, status, "claude-cage git gateway", reason);
    }

    private void audit(String destination, String decision, String reason, long sent, long received) {
        audit.accept(new AuditEvent(Instant.now(), AUDIT_SOURCE, destination, destination == null ? null : HTTPS_PORT,
                decision, reason, sent, received));
    }
}
