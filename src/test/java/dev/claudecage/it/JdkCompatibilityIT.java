package dev.claudecage.it;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import static dev.claudecage.it.CageHarness.ROOTFS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The launcher on the newest JDK the host has (Java 18 and newer load the resolver providers that
 * jars declare: the shaded jar once offered dnsjava's, which could not load, and every host-name
 * lookup failed). A filtered cage looks names up on the host side (the API gateway's upstream) and
 * in its DNS stub.
 */
class JdkCompatibilityIT {

    @Test
    void aFilteredCageResolvesNamesWhenTheLauncherRunsOnTheNewestJdk() throws IOException {
        CageHarness.requireRootAndRootfs();
        Optional<Path> newest = newestJdk();
        if (newest.isEmpty()) {
            System.out.println("NOT RUN: no JDK newer than 17 under /usr/lib/jvm to run the launcher on");
        }
        Assumptions.assumeTrue(newest.isPresent(), "no JDK newer than 17 under /usr/lib/jvm");
        System.out.println("the launcher runs on " + newest.get());
        // The API gateway looks up its upstream by name on the host: "localhost", served by this test.
        HttpServer upstream = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        upstream.createContext("/", exchange -> {
            byte[] body = "upstream reached".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        upstream.start();
        try {
            String script = "getent hosts api.anthropic.com\n"
                    + "gw=${ANTHROPIC_BASE_URL#http://}; exec 3<>/dev/tcp/${gw%:*}/${gw##*:}\n"
                    + "printf 'GET /v1/models HTTP/1.1\\r\\nHost: api\\r\\nx-api-key: %s\\r\\nConnection: close\\r\\n\\r\\n' "
                    + "\"$ANTHROPIC_API_KEY\" >&3\n"
                    + "timeout 10 cat <&3";
            CageHarness.Result result = CageHarness.launch(List.of("run", "--rootfs", ROOTFS.toString(), "--network",
                    "filtered", "--api-upstream", "http://localhost:" + upstream.getAddress().getPort(), "--", "bash", "-c",
                    script), "", Map.of("JAVA_HOME", newest.get().toString(), "ANTHROPIC_API_KEY", "sk-ant-test-jdk"),
                    Duration.ofMinutes(2));
            assertEquals(0, result.exitCode(), result.toString());
            assertTrue(result.stdout().contains("api.anthropic.com"), result.toString());
            assertTrue(result.stdout().contains("upstream reached"), result.toString());
            // Java 22+ warns on stderr when JNA loads its library, unless the launcher allows native access.
            assertFalse(result.stderr().contains("restricted method"), result.toString());
        } finally {
            upstream.stop(0);
        }
    }

    private static Optional<Path> newestJdk() throws IOException {
        try (Stream<Path> homes = Files.list(Path.of("/usr/lib/jvm"))) {
            return homes.filter(home -> Files.isExecutable(home.resolve("bin/java")) && major(home) > 17)
                    .max(Comparator.comparingInt(JdkCompatibilityIT::major));
        }
    }

    private static int major(Path home) {
        try {
            for (String line : Files.readAllLines(home.resolve("release"))) {
                if (line.startsWith("JAVA_VERSION=")) {
                    String version = line.substring("JAVA_VERSION=".length()).replace("\"", "");
                    return Integer.parseInt(version.split("[.+-]")[0]);
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }
}
