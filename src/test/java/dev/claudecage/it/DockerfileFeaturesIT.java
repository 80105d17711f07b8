package dev.claudecage.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.claudecage.json.Json;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Dockerfile instructions and flags beyond the basics, built for real (runc, overlayfs) on
 * {@code debian:bookworm}: what the image config records (VOLUME, HEALTHCHECK, STOPSIGNAL,
 * ONBUILD, MAINTAINER), ONBUILD triggers in a later build, here-documents, every RUN --mount
 * type, RUN --network=none, COPY --parents/--exclude, ADD of a tar archive and of a URL.
 */
class DockerfileFeaturesIT {

    @TempDir
    Path context;
    @TempDir
    Path outside;

    private final List<String> images = new ArrayList<>();
    private List<String> leftoversBefore;

    @BeforeEach
    void requireHost() throws Exception {
        CageHarness.requireRootAndRootfs();
        leftoversBefore = CageHarness.leftovers();
        assertEquals(List.of(), ImageBuildIT.buildLeftovers(leftoversBefore), "the host holds build leftovers before the test");
    }

    @AfterEach
    void removeImagesAndCheckForLeftovers() throws Exception {
        ImageBuildIT.removeImages(images);
        assertEquals(List.of(), ImageBuildIT.newLeftovers(leftoversBefore), "the test left something behind");
        assertEquals(List.of(), ImageBuildIT.children(ImageBuildIT.STORE.resolve("tmp")),
                "the build left work directories in the store");
    }

    private String name(String what) {
        byte[] bytes = new byte[4];
        new SecureRandom().nextBytes(bytes);
        String name = "it-" + what + "-" + HexFormat.of().formatHex(bytes);
        images.add(name);
        return name;
    }

    private static JsonNode inspect(String image) throws IOException {
        CageHarness.Result inspected = CageHarness.launch(List.of("image", "inspect", image));
        assertEquals(0, inspected.exitCode(), inspected.toString());
        return Json.mapper().readTree(inspected.stdout());
    }

    @Test
    void volumeHealthcheckStopsignalOnbuildAndMaintainerAreRecordedAndTheTriggersRunInTheNextBuild() throws Exception {
        Files.writeString(context.resolve("Dockerfile"), """
                FROM debian:bookworm
                ARG DATA=/data
                VOLUME $DATA /var/log/app
                VOLUME ["/cache"]
                HEALTHCHECK --interval=5s --timeout=2s --retries=2 CMD test -f /tmp/healthy
                STOPSIGNAL SIGQUIT
                MAINTAINER Jane Doe <jane@example.com>
                ONBUILD COPY trigger.txt /from-trigger.txt
                ONBUILD RUN echo "ran in the child" > /onbuild-ran
                """);
        String parent = name("recorded");
        CageHarness.Result built = ImageBuildIT.build(parent, context);
        assertEquals(0, built.exitCode(), built.toString());
        JsonNode config = inspect(parent);
        JsonNode settings = config.path("config");
        assertEquals(Json.mapper().readTree("{\"/cache\":{},\"/data\":{},\"/var/log/app\":{}}"), settings.path("Volumes"));
        assertEquals(Json.mapper().readTree("{\"Test\":[\"CMD-SHELL\",\"test -f /tmp/healthy\"],\"Interval\":5000000000,"
                + "\"Timeout\":2000000000,\"Retries\":2}"), settings.path("Healthcheck"));
        assertEquals("SIGQUIT", settings.path("StopSignal").asText());
        assertEquals(Json.mapper().readTree("[\"COPY trigger.txt /from-trigger.txt\","
                + "\"RUN echo \\\"ran in the child\\\" > /onbuild-ran\"]"), settings.path("OnBuild"));
        assertEquals("Jane Doe <jane@example.com>", config.path("author").asText());

        Path child = Files.createDirectories(outside.resolve("child"));
        Files.writeString(child.resolve("Dockerfile"), "FROM " + parent + "\nHEALTHCHECK NONE\n");
        Files.writeString(child.resolve("trigger.txt"), "from the child's context\n");
        String childName = name("child");
        CageHarness.Result childBuild = ImageBuildIT.build(childName, child);
        assertEquals(0, childBuild.exitCode(), childBuild.toString());
        assertEquals(4, ImageBuildIT.steps(childBuild).size(), "FROM, two triggers, HEALTHCHECK: " + childBuild);
        JsonNode childSettings = inspect(childName).path("config");
        assertTrue(childSettings.path("OnBuild").isMissingNode(), "triggers are not passed on: " + childSettings);
        assertEquals(Json.mapper().readTree("{\"Test\":[\"NONE\"]}"), childSettings.path("Healthcheck"));
        assertEquals("SIGQUIT", childSettings.path("StopSignal").asText(), "inherited");
        CageHarness.Result inCage = ImageBuildIT.runIn(childName, "cat /from-trigger.txt /onbuild-ran");
        assertEquals("from the child's context\nran in the child\n", inCage.stdout(), inCage.toString());
    }

    @Test
    void heredocsRunAsScriptsAndBecomeFiles() throws Exception {
        Files.writeString(context.resolve("Dockerfile"), """
                FROM debian:bookworm
                ARG GREETING=hello
                RUN <<EOF
                set -e
                mkdir -p /out
                # a comment line of the script
                echo "plain $GREETING" > /out/plain.txt
                EOF
                RUN <<EOF
                #!/bin/sh
                echo "script at $0" > /out/script.txt
                EOF
                RUN cat <<-END > /out/chomped.txt && cat <<'LITERAL' >> /out/chomped.txt
                \tindented
                \tEND
                $GREETING stays
                LITERAL
                COPY <<greeting.txt <<"raw.txt" /out/
                $GREETING "world" '$GREETING' $UNSET
                greeting.txt
                $GREETING
                raw.txt
                COPY --chmod=0755 <<EOF /usr/local/bin/hello
                #!/bin/sh
                echo hi from a copied heredoc
                EOF
                """);
        String image = name("heredocs");
        CageHarness.Result built = ImageBuildIT.build(image, context);
        assertEquals(0, built.exitCode(), built.toString());
        CageHarness.Result inCage = ImageBuildIT.runIn(image, "cat /out/plain.txt /out/script.txt /out/chomped.txt "
                + "/out/greeting.txt /out/raw.txt; stat -c '%a %u' /out/raw.txt /usr/local/bin/hello; hello; "
                + "test -e /dev/pipes/EOF || echo no-pipes-in-the-image");
        assertEquals("plain hello\nscript at /dev/pipes/EOF\nindented\n$GREETING stays\n"
                + "hello \"world\" '$GREETING' $UNSET\n$GREETING\n644 0\n755 0\nhi from a copied heredoc\n"
                + "no-pipes-in-the-image\n", inCage.stdout(), inCage.toString());
    }

    @Test
    void runMountsShowTheirSourcesAndNoneOfItStaysInTheLayer() throws Exception {
        String secretValue = "s3cret-" + HexFormat.of().formatHex(new SecureRandom().generateSeed(6));
        String cacheId = "it-demo-" + HexFormat.of().formatHex(new SecureRandom().generateSeed(6));
        Path secretFile = outside.resolve("token");
        Files.writeString(secretFile, secretValue);
        Files.writeString(context.resolve("ctx-file.txt"), "from the context\n");
        Files.createDirectories(context.resolve("tree/a/b"));
        Files.writeString(context.resolve("tree/a/b/keep.txt"), "kept\n");
        Files.writeString(context.resolve("tree/a/b/drop.md"), "dropped\n");
        Files.writeString(context.resolve("Dockerfile"), """
                FROM debian:bookworm AS other
                RUN mkdir -p /made && echo "from another stage" > /made/it.txt
                FROM debian:bookworm
                RUN mkdir /out && echo visible-marker-%s > /out/marker
                RUN --mount=type=cache,target=/var/cache/demo,id=demo-%s \\
                    n=$(cat /var/cache/demo/n 2>/dev/null || echo 0); echo $((n+1)) > /var/cache/demo/n; cp /var/cache/demo/n /out/cache-count
                RUN --mount=type=bind,source=ctx-file.txt,target=/mnt/ctx.txt cp /mnt/ctx.txt /out/from-context.txt
                RUN --mount=type=bind,from=other,source=/made,target=/mnt/other,rw touch /mnt/other/written && cat /mnt/other/it.txt > /out/from-stage.txt
                RUN --mount=type=tmpfs,target=/scratch grep -q ' /scratch tmpfs ' /proc/mounts && echo tmpfs > /out/tmpfs.txt
                RUN --mount=type=secret,id=token,required test "$(cat /run/secrets/token)" = "%s" && stat -c '%%a %%u' /run/secrets/token > /out/secret-file
                RUN --mount=type=secret,id=token,env=TOKEN,target=/root/token.txt test "$TOKEN" = "%s" && echo env-ok > /out/secret-env
                RUN --mount=type=secret,id=absent test ! -e /run/secrets/absent && echo skipped > /out/secret-absent
                RUN --network=none awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' /proc/net/dev > /out/isolated-interfaces
                RUN awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' /proc/net/dev | sort > /out/host-interfaces
                COPY --parents --exclude=**/*.md tree/./a/ /parents/
                """.formatted(secretValue, cacheId, secretValue, secretValue));
        String name = name("mounts");
        try {
            buildWithMounts(name, secretFile, secretValue);
        } finally {
            ImageBuildIT.removeCacheMount("demo-" + cacheId);
        }
    }

    private void buildWithMounts(String name, Path secretFile, String secretValue) throws Exception {
        CageHarness.Result built = ImageBuildIT.build(name, context, "--secret", "id=token,src=" + secretFile);
        assertEquals(0, built.exitCode(), built.toString());
        CageHarness.Result inCage = ImageBuildIT.runIn(name, "cd /out; cat cache-count from-context.txt from-stage.txt "
                + "tmpfs.txt secret-file secret-env secret-absent isolated-interfaces; grep -c . host-interfaces; "
                + "find /parents -type f | sort; "
                + "for p in /var/cache/demo /mnt/ctx.txt /mnt/other /scratch /run/secrets /root/token.txt; do "
                + "test -e $p && echo left: $p; done; true");
        String[] lines = inCage.stdout().split("\n");
        assertEquals(List.of("1", "from the context", "from another stage", "tmpfs", "400 0", "env-ok", "skipped", "lo"),
                List.of(lines).subList(0, 8), inCage.toString());
        assertTrue(Integer.parseInt(lines[8]) > 1, "the control: without --network=none a step sees the host's "
                + "interfaces: " + inCage);
        assertEquals(List.of("/parents/a/b/keep.txt"), List.of(lines).subList(9, lines.length),
                "--parents keeps the path below ./, --exclude drops *.md, and no mount point stays: " + inCage);

        List<Path> layers = layerDirectories(name);
        int markers = occurrences(layers, "visible-marker-" + secretValue);
        assertEquals(1, markers, "the control: the search finds the secret's text where a step wrote it");
        assertEquals(markers, occurrences(layers, secretValue), "the secret is in a layer");

        CageHarness.Result again = ImageBuildIT.build(name, context, "--no-cache", "--secret", "id=token,src=" + secretFile);
        assertEquals(0, again.exitCode(), again.toString());
        assertEquals("2\n", ImageBuildIT.runIn(name, "cat /out/cache-count").stdout(), "the cache mount is kept between builds");

        CageHarness.Result withoutSecret = ImageBuildIT.build(name, context, "--no-cache");
        assertEquals(2, withoutSecret.exitCode(), withoutSecret.toString());
        assertTrue(withoutSecret.stderr().contains("the secret 'token' is required"), withoutSecret.toString());
    }

    @Test
    void addUnpacksLocalTarArchivesAndDownloadsUrlsOnlyWithAMatchingChecksum() throws Exception {
        Path tree = Files.createDirectories(outside.resolve("tree/pkg/bin"));
        Files.writeString(tree.resolve("tool"), "#!/bin/sh\necho tool\n");
        Files.setPosixFilePermissions(tree.resolve("tool"), java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Process tar = new ProcessBuilder("tar", "-czf", context.resolve("pkg.tar.gz").toString(), "-C",
                outside.resolve("tree").toString(), "--owner=1234", "--group=1234", "pkg").inheritIO().start();
        assertEquals(0, tar.waitFor());
        Files.write(context.resolve("not-a-tar.gz"), new byte[] {0x1f, (byte) 0x8b, 0, 0});
        byte[] served = "downloaded content\n".getBytes(StandardCharsets.UTF_8);
        String checksum = "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(served));
        AtomicInteger hits = new AtomicInteger();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/files/", exchange -> {
            hits.incrementAndGet();
            exchange.getResponseHeaders().add("Last-Modified", "Tue, 15 Nov 1994 08:12:31 GMT");
            exchange.sendResponseHeaders(200, served.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(served);
            }
        });
        server.start();
        try {
            String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/files/data.txt";
            Files.writeString(context.resolve("Dockerfile"), """
                    FROM debian:bookworm
                    ADD pkg.tar.gz not-a-tar.gz /opt/
                    ADD --checksum=%s %s /downloads/
                    ADD --checksum=%s --chmod=644 %s /downloads/readable.txt
                    """.formatted(checksum, url, checksum, url));
            String name = name("add");
            CageHarness.Result built = ImageBuildIT.build(name, context);
            assertEquals(0, built.exitCode(), built.toString());
            CageHarness.Result inCage = ImageBuildIT.runIn(name, "/opt/pkg/bin/tool; stat -c '%u %a %s' /opt/pkg/bin/tool "
                    + "/opt/not-a-tar.gz; stat -c '%u %a %Y' /downloads/data.txt; cat /downloads/readable.txt");
            assertEquals("tool\n1234 755 " + Files.size(tree.resolve("tool")) + "\n0 644 4\n0 600 784887151\n"
                    + "downloaded content\n", inCage.stdout(), inCage.toString());

            Files.writeString(context.resolve("Dockerfile"), "FROM debian:bookworm\nADD --checksum=sha256:" + "0".repeat(64)
                    + " " + url + " /downloads/\n");
            CageHarness.Result wrong = ImageBuildIT.build(name("wrong"), context);
            assertEquals(1, wrong.exitCode(), wrong.toString());
            assertTrue(wrong.stderr().contains("does not match --checksum"), wrong.toString());

            Files.writeString(context.resolve("Dockerfile"), "FROM debian:bookworm\nADD " + url + " /downloads/\n");
            int before = hits.get();
            CageHarness.Result unverified = ImageBuildIT.build(name("unverified"), context);
            assertEquals(2, unverified.exitCode(), unverified.toString());
            assertTrue(unverified.stderr().contains("has no --checksum"), unverified.toString());
            assertEquals(before, hits.get(), "nothing is downloaded without a checksum");
            CageHarness.Result allowed = ImageBuildIT.build(name("allowed"), context, "--allow-unverified-add");
            assertEquals(0, allowed.exitCode(), allowed.toString());
        } finally {
            server.stop(0);
        }
    }

    private static List<Path> layerDirectories(String image) throws IOException {
        List<Path> layers = new ArrayList<>();
        for (JsonNode layer : inspect(image).path("rootfs").path("diff_ids")) {
            layers.add(ImageBuildIT.STORE.resolve("layers").resolve(layer.asText().substring("sha256:".length()))
                    .resolve("diff"));
        }
        return layers;
    }

    /** How often {@code text} occurs in the regular files of the layers (the base's too). */
    private static int occurrences(List<Path> layers, String text) throws IOException {
        byte[] needle = text.getBytes(StandardCharsets.UTF_8);
        int found = 0;
        for (Path layer : layers) {
            try (Stream<Path> files = Files.walk(layer)) {
                for (Path file : files.filter(path -> Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)).toList()) {
                    byte[] content = Files.readAllBytes(file);
                    for (int from = indexOf(content, needle, 0); from >= 0; from = indexOf(content, needle, from + 1)) {
                        found++;
                    }
                }
            }
        }
        return found;
    }

    private static int indexOf(byte[] haystack, byte[] needle, int start) {
        outer:
        for (int i = start; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
