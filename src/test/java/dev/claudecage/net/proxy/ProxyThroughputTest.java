package dev.claudecage.net.proxy;

import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.Arrays;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Measures the proxy against direct loopback in the same run, and prints the numbers: the
 * throughput of a 100 MB download through a CONNECT tunnel, and the latency a request gains
 * (median of 50). The assertions check that every byte and every response arrived; the
 * timings are reported, not asserted, because shared CI machines vary too much for a bound.
 */
class ProxyThroughputTest extends ProxyTestBase {

    private static final long DOWNLOAD_BYTES = 100L * 1024 * 1024;
    private static final int RUNS = 3;
    private static final int REQUESTS = 50;
    // The JIT compiles the proxy's request path after a few hundred requests; measure it compiled.
    private static final int WARM_UP_REQUESTS = 200;

    @Test
    void aHundredMegabyteDownloadThroughATunnelAndDirect() throws Exception {
        TestServer source = track(TestServer.start(socket -> {
            long length = new DataInputStream(socket.getInputStream()).readLong();
            OutputStream out = socket.getOutputStream();
            byte[] chunk = new byte[64 * 1024];
            for (long sent = 0; sent < length; sent += chunk.length) {
                out.write(chunk, 0, (int) Math.min(chunk.length, length - sent));
            }
        }));
        harness.allow("bulk.test:" + source.port()).pinToLoopback("bulk.test").start();
        download(Wire.open(source.port()), DOWNLOAD_BYTES / 10);
        download(tunnel(source.port()), DOWNLOAD_BYTES / 10);

        long[] direct = new long[RUNS];
        long[] proxied = new long[RUNS];
        for (int run = 0; run < RUNS; run++) {
            direct[run] = download(Wire.open(source.port()), DOWNLOAD_BYTES);
            proxied[run] = download(tunnel(source.port()), DOWNLOAD_BYTES);
        }

        double directRate = megabytesPerSecond(median(direct));
        double proxiedRate = megabytesPerSecond(median(proxied));
        System.out.printf(Locale.ROOT, "egress proxy throughput, 100 MB, median of %d: direct %.0f MB/s, "
                + "proxied %.0f MB/s (%.0f%% of direct)%n", RUNS, directRate, proxiedRate, 100 * proxiedRate / directRate);
        assertEquals(2 * (RUNS + 1), source.connections());
    }

    @Test
    void theLatencyARequestGains() throws Exception {
        TestServer web = track(TestServer.start(socket -> {
            Wire.readHead(socket.getInputStream());
            Wire.send(socket, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }));
        harness.allow("web.test:" + web.port()).pinToLoopback("web.test").start();
        String origin = "GET / HTTP/1.1\r\nHost: web.test\r\n\r\n";
        String proxiedRequest = "GET http://web.test:" + web.port() + "/ HTTP/1.1\r\nHost: web.test\r\n\r\n";

        for (int i = 0; i < WARM_UP_REQUESTS; i++) {
            request(web.port(), origin);
            request(harness.proxy().httpProxyPort(), proxiedRequest);
        }
        long[] direct = new long[REQUESTS];
        long[] proxied = new long[REQUESTS];
        for (int i = 0; i < REQUESTS; i++) {
            direct[i] = request(web.port(), origin);
            proxied[i] = request(harness.proxy().httpProxyPort(), proxiedRequest);
        }

        long directMedian = median(direct);
        long proxiedMedian = median(proxied);
        System.out.printf(Locale.ROOT, "egress proxy latency, HTTP request on a new connection, median of %d: "
                        + "direct %.3f ms, proxied %.3f ms, added %.3f ms%n", REQUESTS, directMedian / 1e6,
                proxiedMedian / 1e6, (proxiedMedian - directMedian) / 1e6);
        assertEquals(2 * (WARM_UP_REQUESTS + REQUESTS), web.connections());
    }

    private Socket tunnel(int port) throws IOException {
        Socket socket = harness.openExplicit();
        assertEquals(200, Wire.status(Wire.connect(socket, "bulk.test:" + port)));
        return socket;
    }

    /** Asks the source for this many bytes and reads them all; the nanoseconds it took. */
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
            assertEquals(length, received);
            return elapsed;
        }
    }

    /** One request on a new connection, to the end of the response; the nanoseconds it took. */
    private static long request(int port, String request) throws IOException {
        long start = System.nanoTime();
        try (Socket socket = Wire.open(port)) {
            Wire.send(socket, request);
            String head = Wire.readHead(socket.getInputStream());
            assertTrue(head.startsWith("HTTP/1.1 200"), head);
            assertEquals("ok", Wire.readBody(socket.getInputStream(), head));
        }
        return System.nanoTime() - start;
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
