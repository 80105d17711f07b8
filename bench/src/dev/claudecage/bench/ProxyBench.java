package dev.claudecage.bench;

import dev.claudecage.net.AuditLog;
import dev.claudecage.net.EgressPolicy;
import dev.claudecage.net.HostRule;
import dev.claudecage.net.NameResolver;
import dev.claudecage.net.proxy.EgressProxy;
import dev.claudecage.net.proxy.ProxySettings;
import dev.claudecage.net.proxy.TrafficLimits;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The egress proxy against direct loopback, in the same run, as the proxy's own
 * {@code ProxyThroughputTest} measures it: the throughput of a download through a CONNECT tunnel,
 * and the latency a request on a new connection gains through the plain HTTP proxy. The proxy runs
 * in this JVM on 127.0.0.1, with its real policy, resolver and audit log; the names are pinned to
 * 127.0.0.1 and its dialer reaches loopback only, so not a byte leaves this machine.
 */
final class ProxyBench {

    private static final long DOWNLOAD_BYTES = 100L * 1024 * 1024;
    /**
     * Pairs of downloads, direct then proxied: loopback's direct rate moved from 2442 to 4201 MiB/s
     * between two runs of the same jar, so the ratio is taken pair by pair (each pair sees the same
     * moment of the machine) and its median reported, over enough pairs to steady it.
     */
    private static final int DOWNLOAD_RUNS = 9;
    private static final int REQUESTS = 50;
    private static final int WARM_UP_REQUESTS = 200;

    private ProxyBench() {
    }

    /**
     * Runs in a JVM of its own, so that the proxy is measured with the flags it really runs with
     * (the launcher's: C1 only, the serial collector); writes its results as JSON to the file
     * named by the second argument.
     */
    public static void main(String[] args) throws Exception {
        Path scratch = Path.of(args[0]);
        java.nio.file.Files.createDirectories(scratch);
        java.nio.file.Files.writeString(Path.of(args[1]), dev.claudecage.json.Json.write(run(scratch)));
    }

    static Map<String, Object> run(Path scratch) throws Exception {
        ExecutorService threads = Executors.newCachedThreadPool(runnable -> {
            Thread thread = new Thread(runnable, "bench-server");
            thread.setDaemon(true);
            return thread;
        });
        try (ServerSocket bulk = serve(threads, ProxyBench::sendRequestedBytes);
             ServerSocket web = serve(threads, ProxyBench::answerOk);
             AuditLog audit = AuditLog.open(scratch.resolve("audit.jsonl"), List.of())) {
            InetAddress loopback = InetAddress.getLoopbackAddress();
            EgressPolicy policy = new EgressPolicy(
                    List.of(HostRule.parse("bulk.bench:" + bulk.getLocalPort()), HostRule.parse("web.bench:" + web.getLocalPort())),
                    Map.of("bulk.bench", List.of(loopback), "web.bench", List.of(loopback)), 1L << 40, 64);
            EgressProxy proxy = EgressProxy.start(ProxySettings.withDefaultTimeouts(List.of(loopback), 0, 0, 0), policy,
                    TrafficLimits.of(policy), NameResolver.pinnedOnly(policy), ProxyBench::dialLoopbackOnly, audit);
            try {
                Map<String, Object> result = new LinkedHashMap<>();
                result.put("throughput", throughput(proxy, bulk.getLocalPort()));
                result.put("latency", latency(proxy, web.getLocalPort()));
                return result;
            } finally {
                proxy.close();
            }
        } finally {
            threads.shutdownNow();
        }
    }

    private static Map<String, Object> throughput(EgressProxy proxy, int port) throws IOException {
        download(direct(port), DOWNLOAD_BYTES / 10);
        download(tunnel(proxy, port), DOWNLOAD_BYTES / 10);
        long[] direct = new long[DOWNLOAD_RUNS];
        long[] proxied = new long[DOWNLOAD_RUNS];
        for (int run = 0; run < DOWNLOAD_RUNS; run++) {
            direct[run] = download(direct(port), DOWNLOAD_BYTES);
            proxied[run] = download(tunnel(proxy, port), DOWNLOAD_BYTES);
        }
        double directRate = megabytesPerSecond(median(direct));
        double proxiedRate = megabytesPerSecond(median(proxied));
        long[] pairRatiosPerMille = new long[DOWNLOAD_RUNS];
        for (int run = 0; run < DOWNLOAD_RUNS; run++) {
            pairRatiosPerMille[run] = Math.round(1000.0 * direct[run] / proxied[run]);
        }
        double ratio = median(pairRatiosPerMille) / 1000.0;
        System.out.printf(Locale.ROOT, "  throughput, 100 MiB through a CONNECT tunnel, median of %d pairs: direct %.0f MiB/s, "
                + "proxied %.0f MiB/s (%.0f%% of direct, the median of the pairs' ratios)%n", DOWNLOAD_RUNS, directRate,
                proxiedRate, 100 * ratio);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("bytes", DOWNLOAD_BYTES);
        json.put("runs", DOWNLOAD_RUNS);
        json.put("direct_mib_per_s", Report.round(directRate));
        json.put("proxied_mib_per_s", Report.round(proxiedRate));
        json.put("proxied_over_direct", Report.round2(ratio));
        return json;
    }

    private static Map<String, Object> latency(EgressProxy proxy, int port) throws IOException {
        String origin = "GET / HTTP/1.1\r\nHost: web.bench\r\n\r\n";
        String proxiedRequest = "GET http://web.bench:" + port + "/ HTTP/1.1\r\nHost: web.bench\r\n\r\n";
        for (int i = 0; i < WARM_UP_REQUESTS; i++) {
            request(port, origin);
            request(proxy.httpProxyPort(), proxiedRequest);
        }
        long[] direct = new long[REQUESTS];
        long[] proxied = new long[REQUESTS];
        for (int i = 0; i < REQUESTS; i++) {
            direct[i] = request(port, origin);
            proxied[i] = request(proxy.httpProxyPort(), proxiedRequest);
        }
        double directMs = median(direct) / 1e6;
        double proxiedMs = median(proxied) / 1e6;
        System.out.printf(Locale.ROOT, "  latency, HTTP request on a new connection, median of %d: direct %.3f ms, "
                + "proxied %.3f ms, added %.3f ms%n", REQUESTS, directMs, proxiedMs, proxiedMs - directMs);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("requests", REQUESTS);
        json.put("direct_ms", Report.round3(directMs));
        json.put("proxied_ms", Report.round3(proxiedMs));
        json.put("added_ms", Report.round3(proxiedMs - directMs));
        return json;
    }

    private interface Handler {
        void handle(Socket socket) throws IOException;
    }

    private static ServerSocket serve(ExecutorService threads, Handler handler) throws IOException {
        ServerSocket server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        threads.execute(() -> {
            while (!server.isClosed()) {
                try {
                    Socket socket = server.accept();
                    threads.execute(() -> {
                        try (socket) {
                            handler.handle(socket);
                        } catch (IOException e) {
                            // the client went away; the measurement notices missing bytes
                        }
                    });
                } catch (IOException e) {
                    return;
                }
            }
        });
        return server;
    }

    private static void sendRequestedBytes(Socket socket) throws IOException {
        long length = new DataInputStream(socket.getInputStream()).readLong();
        OutputStream out = socket.getOutputStream();
        byte[] chunk = new byte[64 * 1024];
        for (long sent = 0; sent < length; sent += chunk.length) {
            out.write(chunk, 0, (int) Math.min(chunk.length, length - sent));
        }
    }

    private static void answerOk(Socket socket) throws IOException {
        readHead(socket.getInputStream());
        socket.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                .getBytes(StandardCharsets.US_ASCII));
    }

    private static SocketChannel dialLoopbackOnly(List<InetAddress> addresses, int port) throws IOException {
        InetAddress address = addresses.get(0);
        if (!address.isLoopbackAddress()) {
            throw new IOException("the bench's dialer reaches loopback only, not " + address);
        }
        return SocketChannel.open(new InetSocketAddress(address, port));
    }

    private static Socket direct(int port) throws IOException {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), port);
        socket.setTcpNoDelay(true);
        return socket;
    }

    private static Socket tunnel(EgressProxy proxy, int port) throws IOException {
        Socket socket = direct(proxy.httpProxyPort());
        String target = "bulk.bench:" + port;
        socket.getOutputStream().write(("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        String head = readHead(socket.getInputStream());
        if (!head.startsWith("HTTP/1.1 200")) {
            socket.close();
            throw new IOException("the proxy refused the tunnel: " + head.lines().findFirst().orElse(""));
        }
        return socket;
    }

    private static long download(Socket socket, long length) throws IOException {
        try (socket) {
            long start = System.nanoTime();
            new DataOutputStream(socket.getOutputStream()).writeLong(length);
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[64 * 1024];
            long received = 0;
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                received += n;
            }
            long elapsed = System.nanoTime() - start;
            if (received != length) {
                throw new IOException("received " + received + " bytes of " + length);
            }
            return elapsed;
        }
    }

    private static long request(int port, String request) throws IOException {
        long start = System.nanoTime();
        try (Socket socket = direct(port)) {
            socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            InputStream in = socket.getInputStream();
            String head = readHead(in);
            if (!head.startsWith("HTTP/1.1 200")) {
                throw new IOException("unexpected response: " + head.lines().findFirst().orElse(""));
            }
            byte[] body = in.readNBytes(2);
            if (!"ok".equals(new String(body, StandardCharsets.US_ASCII))) {
                throw new IOException("unexpected body");
            }
        }
        return System.nanoTime() - start;
    }

    /** Reads up to the blank line that ends an HTTP head. */
    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("the connection closed inside an HTTP head: " + head);
            }
            head.append((char) b);
            matched = (b == '\r' && (matched == 0 || matched == 2)) || (b == '\n' && (matched == 1 || matched == 3))
                    ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString();
    }

    private static long median(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static double megabytesPerSecond(long nanos) {
        return DOWNLOAD_BYTES / (1024.0 * 1024.0) / (nanos / 1e9);
    }
}
