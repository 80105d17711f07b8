package dev.claudecage.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.claudecage.process.CommandResult;
import dev.claudecage.process.ProcessRunner;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLContext;

/**
 * A git server of the test's own: {@code git http-backend} (CGI, run through ProcessRunner) behind
 * the JDK's HttpServer on loopback, with TLS in front of it (the JDK's HttpsServer looks up the name
 * of every client's address, which hangs in a test namespace without DNS), serving the bare repositories under one folder, and refusing every request
 * that does not carry {@code Authorization: Basic} with the expected user and token. It records every
 * request it saw (method, target, Authorization, body, whether chunked), so a test can say where the token travelled.
 */
public final class GitHttpServer implements AutoCloseable {

    /** One request as the server saw it. */
    public record Seen(String method, String target, String authorization, byte[] body, boolean chunked) {
    }

    private final HttpServer server;
    private final ServerSocket tlsServer;
    private final List<Seen> seen = new CopyOnWriteArrayList<>();

    private GitHttpServer(HttpServer server, ServerSocket tlsServer) {
        this.server = server;
        this.tlsServer = tlsServer;
    }

    /** A bare repository at {@code bare} with one empty commit on main, which accepts pushes over HTTP. */
    public static void seedRepository(Path bare) {
        ProcessRunner runner = new ProcessRunner(false);
        Duration timeout = Duration.ofSeconds(30);
        Path work = bare.resolveSibling("seed");
        runner.run(List.of("git", "init", "-q", "--bare", "-b", "main", bare.toString()), timeout);
        runner.run(List.of("git", "init", "-q", "-b", "main", work.toString()), timeout);
        runner.run(List.of("git", "-C", work.toString(), "-c", "user.name=t", "-c", "user.email=t@test",
                "commit", "-q", "--allow-empty", "-m", "seed"), timeout);
        runner.run(List.of("git", "-C", work.toString(), "push", "-q", bare.toString(), "main"), timeout);
        // The CGI runs as root here, but git refuses repositories owned by someone else only for other users.
        runner.run(List.of("git", "config", "--file", bare.resolve("config").toString(), "http.receivepack", "true"),
                timeout);
    }

    /**
     * Starts serving (bind in the namespace the server should live in).
     *
     * @param projectRoot the folder holding bare repositories, e.g. repo.git
     * @param scratch     a folder for the CGI's request and response files
     */
    public static GitHttpServer start(InetSocketAddress bind, SSLContext tls, Path projectRoot, Path scratch,
                                      String user, String token) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        ServerSocket tlsServer = tls.getServerSocketFactory().createServerSocket(bind.getPort(), 16, bind.getAddress());
        GitHttpServer git = new GitHttpServer(server, tlsServer);
        String expected = "Basic " + Base64.getEncoder().encodeToString((user + ":" + token).getBytes(StandardCharsets.UTF_8));
        ProcessRunner runner = new ProcessRunner(false);
        server.createContext("/", exchange -> {
            try (exchange) {
                git.serve(exchange, expected, projectRoot, scratch, runner);
            } catch (RuntimeException e) {
                e.printStackTrace();
                throw e;
            }
        });
        server.start();
        // Started here, so that its thread, and the sockets it makes, are in the caller's namespace.
        Thread terminator = new Thread(() -> git.terminateTls(server.getAddress()), "test-git-tls");
        terminator.setDaemon(true);
        terminator.start();
        return git;
    }

    private void terminateTls(InetSocketAddress plain) {
        while (!tlsServer.isClosed()) {
            try {
                Socket client = tlsServer.accept();
                Socket backend = new Socket(plain.getAddress(), plain.getPort());
                pump(client, backend);
                pump(backend, client);
            } catch (IOException e) {
                // Closed, or one client failed its handshake; the next accept says which.
            }
        }
    }

    private static void pump(Socket from, Socket to) {
        Thread thread = new Thread(() -> {
            try (InputStream in = from.getInputStream()) {
                in.transferTo(to.getOutputStream());
            } catch (IOException e) {
                // One side went away.
            } finally {
                try {
                    to.close();
                } catch (IOException e) {
                    // Closed already.
                }
            }
        }, "test-git-pump");
        thread.setDaemon(true);
        thread.start();
    }

    public List<Seen> seen() {
        return List.copyOf(seen);
    }

    private void serve(HttpExchange exchange, String expected, Path projectRoot, Path scratch, ProcessRunner runner)
            throws IOException {
        byte[] body = exchange.getRequestBody().readAllBytes();
        String authorization = exchange.getRequestHeaders().getFirst("Authorization");
        seen.add(new Seen(exchange.getRequestMethod(), exchange.getRequestURI().toString(), authorization, body,
                "chunked".equalsIgnoreCase(exchange.getRequestHeaders().getFirst("Transfer-Encoding"))));
        if (!expected.equals(authorization)) {
            exchange.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"test git\"");
            byte[] message = "authentication required\n".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(401, message.length);
            exchange.getResponseBody().write(message);
            return;
        }
        Path request = Files.createTempFile(scratch, "cgi-in", "");
        Path response = Files.createTempFile(scratch, "cgi-out", "");
        try {
            Files.write(request, body);
            List<String> command = new ArrayList<>(List.of("env",
                    "GIT_PROJECT_ROOT=" + projectRoot, "GIT_HTTP_EXPORT_ALL=1", "REMOTE_USER=tester", "REMOTE_ADDR=10.0.0.1",
                    "REQUEST_METHOD=" + exchange.getRequestMethod(), "PATH_INFO=" + exchange.getRequestURI().getPath(),
                    "QUERY_STRING=" + nullToEmpty(exchange.getRequestURI().getRawQuery()),
                    "CONTENT_TYPE=" + nullToEmpty(exchange.getRequestHeaders().getFirst("Content-Type")),
                    "CONTENT_LENGTH=" + body.length));
            String encoding = exchange.getRequestHeaders().getFirst("Content-Encoding");
            if (encoding != null) {
                command.add("HTTP_CONTENT_ENCODING=" + encoding);
            }
            String protocol = exchange.getRequestHeaders().getFirst("Git-Protocol");
            if (protocol != null) {
                command.add("GIT_PROTOCOL=" + protocol);
            }
            command.addAll(List.of("sh", "-c", "exec git http-backend <\"$0\" >\"$1\"", request.toString(),
                    response.toString()));
            CommandResult result = runner.runAllowingFailure(command, Duration.ofSeconds(60));
            if (!result.succeeded()) {
                System.err.println("git http-backend failed: " + result.stderr());
            }
            relayCgi(exchange, Files.readAllBytes(response));
        } finally {
            Files.deleteIfExists(request);
            Files.deleteIfExists(response);
        }
    }

    /** The CGI's output: header lines up to a blank line (Status: sets the code), then the body. */
    private static void relayCgi(HttpExchange exchange, byte[] output) throws IOException {
        int at = 0;
        int status = 200;
        while (at < output.length) {
            int end = at;
            while (end < output.length && output[end] != '\n') {
                end++;
            }
            String line = new String(output, at, end - at, StandardCharsets.ISO_8859_1).replace("\r", "");
            at = end + 1;
            if (line.isEmpty()) {
                break;
            }
            int colon = line.indexOf(':');
            String name = line.substring(0, colon).strip();
            String value = line.substring(colon + 1).strip();
            if (name.equalsIgnoreCase("Status")) {
                status = Integer.parseInt(value.split(" ")[0]);
            } else {
                exchange.getResponseHeaders().add(name, value);
            }
        }
        int length = Math.max(0, output.length - at);
        exchange.sendResponseHeaders(status, length == 0 ? -1 : length);
        if (length > 0) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(output, at, length);
            }
        }
    }

    private static String nullToEmpty(String text) {
        return text == null ? "" : text;
    }

    @Override
    public void close() throws IOException {
        tlsServer.close();
        server.stop(0);
    }
}
