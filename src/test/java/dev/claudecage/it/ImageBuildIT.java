package dev.claudecage.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code claude-cage build} with real runc and overlayfs, on small Dockerfiles over
 * {@code debian:bookworm} (made by debootstrap on first use, then taken from the store): the
 * cache, multi-stage builds, a failing RUN, COPY's rules, and what each leaves behind.
 */
class ImageBuildIT {

    static final Path STORE = Path.of("/var/lib/claude-cage/images");
    private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(15);
    private static final Pattern STEP_END = Pattern.compile("\\[(\\d+)/(\\d+)] (from the cache|done in .*|failed after .*)");

    @TempDir
    Path context;

    private final List<String> images = new ArrayList<>();
    private List<String> leftoversBefore;

    @BeforeEach
    void requireHost() throws Exception {
        CageHarness.requireRootAndRootfs();
        leftoversBefore = CageHarness.leftovers();
        assertEquals(List.of(), buildLeftovers(leftoversBefore), "the host holds build leftovers before the test");
    }

    @AfterEach
    void removeImagesAndCheckForLeftovers() throws Exception {
        removeImages(images);
        assertEquals(List.of(), newLeftovers(leftoversBefore), "the test left something behind");
        assertEquals(List.of(), children(STORE.resolve("tmp")), "the build left work directories in the store");
    }

    /**
     * Removes the test's images: their names, and then every image a build of theirs made and a
     * later build replaced (the ids "built NAME (ID)" reported), so that nothing stays in the store.
     */
    static void removeImages(List<String> images) {
        for (String image : images) {
            CageHarness.launch(List.of("image", "rm", image));
        }
        for (String id : BUILT_IDS) {
            // An id that another name still holds (the base image, say) stays; that refusal is fine.
            CageHarness.launch(List.of("image", "rm", id));
        }
        BUILT_IDS.clear();
    }

    private static final List<String> BUILT_IDS = new ArrayList<>();
    private static final Pattern BUILT = Pattern.compile("built \\S+ \\(([0-9a-f]{12})\\)");

    /** What builds leave when they fail to clean up: their step containers, mounts and cgroups. */
    static List<String> buildLeftovers(List<String> leftovers) {
        return leftovers.stream().filter(leftover -> leftover.contains("/build-")).toList();
    }

    /**
     * Leftovers that were not there before, of the kinds these tests make: build steps, COPY --from
     * sources, and the cages of run and verify. Every command here cleans up before it exits, so
     * what is left is left for good; where other tests run cages beside these, a few seconds let
     * theirs finish. (Their sessions are not this test's to judge.)
     */
    static List<String> newLeftovers(List<String> before) throws IOException, InterruptedException {
        List<String> left = List.of();
        for (int attempt = 0; attempt < 20; attempt++) {
            List<String> now = new ArrayList<>(CageHarness.leftovers());
            now.removeAll(before);
            left = now.stream().filter(leftover -> OWN_CAGES.matcher(leftover).find()).toList();
            if (left.isEmpty()) {
                break;
            }
            Thread.sleep(500);
        }
        return left;
    }

    private static final Pattern OWN_CAGES = Pattern.compile("/(build|build-source|run|verify|control)-[0-9a-f]+(/|$)");

    /** A fresh image name for this test, removed after it. */
    String name(String what) {
        byte[] bytes = new byte[4];
        new SecureRandom().nextBytes(bytes);
        String name = "it-" + what + "-" + HexFormat.of().formatHex(bytes);
        images.add(name);
        return name;
    }

    static CageHarness.Result build(String name, Path context, String... extra) {
        List<String> args = new ArrayList<>(List.of("build", "-t", name));
        args.addAll(List.of(extra));
        args.add(context.toString());
        CageHarness.Result result = CageHarness.launch(args, "", Map.of(), BUILD_TIMEOUT);
        Matcher built = BUILT.matcher(result.stdout());
        while (built.find()) {
            BUILT_IDS.add(built.group(1));
        }
        return result;
    }

    /** Removes the store's directory of a RUN --mount=type=cache that a test's Dockerfile named by {@code id}. */
    static void removeCacheMount(String id) throws IOException {
        Path directory = STORE.resolve("cache-mounts").resolve(dev.claudecage.image.store.Digest.of(id).hex());
        try (Stream<Path> walk = Files.exists(directory) ? Files.walk(directory) : Stream.empty()) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        }
        assertFalse(Files.exists(directory), directory + " could not be removed");
    }

    static CageHarness.Result runIn(String image, String script) {
        return CageHarness.launch(List.of("run", "--image", image, "--network", "none", "--", "sh", "-c", script));
    }

    /** Step number to how it ended: "cached", "done" or "failed". */
    static Map<Integer, String> steps(CageHarness.Result result) {
        Map<Integer, String> steps = new java.util.TreeMap<>();
        for (String line : result.stdout().lines().toList()) {
            Matcher matcher = STEP_END.matcher(line);
            if (matcher.matches()) {
                String how = matcher.group(3);
                steps.put(Integer.parseInt(matcher.group(1)),
                        how.startsWith("from") ? "cached" : how.startsWith("done") ? "done" : "failed");
            }
        }
        return steps;
    }

    static List<String> children(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.map(path -> path.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aRebuildWithNothingChangedTakesTheCacheAndAChangedCopySourceRebuildsFromItsStep() throws Exception {
        Files.writeString(context.resolve("Dockerfile"), """
                FROM debian:bookworm
                RUN echo first > /first
                COPY a.txt /opt/a.txt
                RUN cat /opt/a.txt /first > /opt/combined
                COPY b.txt /opt/
                CMD ["cat", "/opt/combined"]
                """);
        Files.writeString(context.resolve("a.txt"), "a1\n");
        Files.writeString(context.resolve("b.txt"), "b1\n");
        String name = name("cache");
        CageHarness.Result first = build(name, context);
        assertEquals(0, first.exitCode(), first.toString());

        long started = System.nanoTime();
        CageHarness.Result again = build(name, context);
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        assertEquals(0, again.exitCode(), again.toString());
        assertTrue(took.compareTo(Duration.ofSeconds(2)) < 0, "a cached rebuild took " + took);
        assertEquals(Map.of(1, "cached", 2, "cached", 3, "cached", 4, "cached", 5, "cached", 6, "cached"), steps(again));
        assertTrue(again.stdout().contains("6 steps, all from the cache"), again.toString());

        Files.writeString(context.resolve("b.txt"), "b2\n");
        CageHarness.Result changedLast = build(name, context);
        assertEquals(Map.of(1, "cached", 2, "cached", 3, "cached", 4, "cached", 5, "done", 6, "done"), steps(changedLast),
                changedLast.toString());

        Files.writeString(context.resolve("a.txt"), "a2\n");
        CageHarness.Result changedFirst = build(name, context);
        assertEquals(Map.of(1, "cached", 2, "cached", 3, "done", 4, "done", 5, "done", 6, "done"), steps(changedFirst),
                changedFirst.toString());
        CageHarness.Result inCage = runIn(name, "cat /opt/combined /opt/b.txt");
        assertEquals("a2\nfirst\nb2\n", inCage.stdout(), inCage.toString());

        CageHarness.Result noCache = build(name, context, "--no-cache");
        assertEquals(Map.of(1, "cached", 2, "done", 3, "done", 4, "done", 5, "done", 6, "done"), steps(noCache),
                "only FROM, found in the store, is not run again: " + noCache);
    }

    /**
     * A rebuild answered from the build's record must not answer a stale image: once the base's
     * name points at another image, the same Dockerfile builds on the new base.
     */
    @Test
    void aRebuildAfterTheBaseNameMovedBuildsOnTheNewBaseNotFromTheRecord() throws Exception {
        Path baseContext = Files.createDirectories(context.resolve("base"));
        Path derivedContext = Files.createDirectories(context.resolve("derived"));
        String base = name("record-base");
        String derived = name("record-derived");
        Files.writeString(baseContext.resolve("Dockerfile"), "FROM debian:bookworm\nRUN echo one > /base\n");
        assertEquals(0, build(base, baseContext).exitCode());
        Files.writeString(derivedContext.resolve("Dockerfile"), "FROM " + base + "\nRUN cp /base /derived\n");
        CageHarness.Result first = build(derived, derivedContext);
        assertEquals(0, first.exitCode(), first.toString());
        CageHarness.Result again = build(derived, derivedContext);
        assertEquals(Map.of(1, "cached", 2, "cached"), steps(again), "the positive control: " + again);

        Files.writeString(baseContext.resolve("Dockerfile"), "FROM debian:bookworm\nRUN echo two > /base\n");
        assertEquals(0, build(base, baseContext).exitCode());
        CageHarness.Result moved = build(derived, derivedContext);
        assertEquals(Map.of(1, "cached", 2, "done"), steps(moved), "the RUN runs again on the new base: " + moved);
        CageHarness.Result inCage = runIn(derived, "cat /derived");
        assertEquals("two\n", inCage.stdout(), inCage.toString());
    }

    @Test
    void multiStageBuildsCopyFromEarlierStagesAndSkipStagesNobodyNeeds() throws Exception {
        Files.writeString(context.resolve("Dockerfile"), """
                ARG BASE=debian:bookworm
                FROM ${BASE} AS builder
                RUN mkdir -p /out/bin && printf '#!/bin/sh\\necho built by stage builder\\n' > /out/bin/tool \\
                 && chmod 0755 /out/bin/tool && ln -s tool /out/bin/tool-link && echo junk > /junk
                FROM ${BASE} AS unused
                RUN echo this stage must not run && exit 1
                FROM ${BASE}
                COPY --from=builder /out/ /opt/app/
                COPY --from=0 --chown=1000:1000 /out/bin/tool /home/tool-for-1000
                """);
        String name = name("stages");
        CageHarness.Result result = build(name, context);
        assertEquals(0, result.exitCode(), result.toString());
        assertFalse(result.stdout().contains("this stage must not run"), result.toString());
        assertEquals(5, steps(result).size(), "two FROMs, one RUN, two COPYs: " + result);
        CageHarness.Result inCage = runIn(name, "/opt/app/bin/tool-link; test ! -e /junk && echo no-junk; "
                + "stat -c '%u %a' /home/tool-for-1000 /opt/app/bin/tool; readlink /opt/app/bin/tool-link");
        assertEquals("built by stage builder\nno-junk\n1000 755\n0 755\ntool\n", inCage.stdout(), inCage.toString());
    }

    @Test
    void aFailingRunShowsItsOutputAndExitCodeAndLeavesNoImageLayerOrMount() throws Exception {
        Files.writeString(context.resolve("Dockerfile"), """
                FROM debian:bookworm
                RUN echo a line before the failure && echo written > /half-done && exit 3
                """);
        // The base image is in the store from here on, so the layer count below is the failure's alone.
        Path warmUp = Files.createDirectories(context.resolve("warm-up"));
        Files.writeString(warmUp.resolve("Dockerfile"), "FROM debian:bookworm\n");
        assertEquals(0, build(name("warm-up"), warmUp).exitCode());
        List<String> layersBefore = children(STORE.resolve("layers"));

        String name = name("failing");
        CageHarness.Result result = build(name, context);
        assertEquals(1, result.exitCode(), result.toString());
        assertTrue(result.stdout().contains("a line before the failure"), result.toString());
        assertEquals("failed", steps(result).get(2), result.toString());
        assertTrue(result.stderr().contains("Dockerfile:2: RUN echo a line before the failure"), result.toString());
        assertTrue(result.stderr().contains("the command exited with code 3"), result.toString());
        assertEquals(layersBefore, children(STORE.resolve("layers")), "the failed step left a layer");
        CageHarness.Result images = CageHarness.launch(List.of("images"));
        assertFalse(images.stdout().contains(name), images.toString());
    }

    @Test
    void aBuildStoppedMidRunLeavesNoContainerMountOrWorkDirectory() throws Exception {
        // The marker is computed, so the step's own title line does not contain it.
        Files.writeString(context.resolve("Dockerfile"), """
                FROM debian:bookworm
                RUN echo $((6 * 7)) && sleep 300
                """);
        Process launcher = CageHarness.start(List.of("build", "-t", name("stopped"), context.toString()), Map.of());
        var stderr = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return new String(launcher.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "(unreadable: " + e.getMessage() + ")";
            }
        });
        var stdout = new java.io.BufferedReader(new java.io.InputStreamReader(launcher.getInputStream()));
        String line;
        while ((line = stdout.readLine()) != null && !line.strip().equals("42")) {
            // Until the RUN step is inside its container.
        }
        assertTrue(line != null, "the RUN step never started");
        // As kill(1) does: Process.destroy() would also close the pipes the launcher reports on.
        new ProcessBuilder("kill", "-TERM", Long.toString(launcher.pid())).start().waitFor();
        assertTrue(launcher.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "the build did not stop on SIGTERM");
        assertEquals(List.of(), newLeftovers(leftoversBefore), "stderr: " + stderr.get());
    }

    @Test
    void copyFollowsDockerignoreChownWorkdirAndDestinationRules() throws Exception {
        Files.writeString(context.resolve("Dockerfile"), """
                FROM debian:bookworm
                WORKDIR /srv/app
                COPY --chown=1000:1000 . ./
                COPY --chmod=0700 script.sh notes.txt /usr/local/share/bits/
                COPY notes.txt renamed.txt
                ADD notes.txt /added/
                """);
        Files.writeString(context.resolve(".dockerignore"), "secret.env\nDockerfile\n");
        Files.writeString(context.resolve("secret.env"), "TOKEN=do-not-copy\n");
        Files.writeString(context.resolve("script.sh"), "echo hi\n");
        Files.writeString(context.resolve("notes.txt"), "notes\n");
        Files.createDirectories(context.resolve("sub/deeper"));
        Files.writeString(context.resolve("sub/deeper/file"), "deep\n");
        String name = name("copy");
        CageHarness.Result result = build(name, context);
        assertEquals(0, result.exitCode(), result.toString());
        CageHarness.Result inCage = runIn(name, "pwd; ls -A /srv/app; stat -c '%u %a %n' /srv/app/sub/deeper/file "
                + "/usr/local/share/bits/script.sh; cat /srv/app/renamed.txt /added/notes.txt");
        assertEquals("/srv/app\n.dockerignore\nnotes.txt\nrenamed.txt\nscript.sh\nsub\n"
                + "1000 644 /srv/app/sub/deeper/file\n0 700 /usr/local/share/bits/script.sh\nnotes\nnotes\n",
                inCage.stdout(), inCage.toString());
    }

    @Test
    void aBadDockerfileIsBadInputThatNamesTheFileAndLine() throws Exception {
        Files.writeString(context.resolve("Dockerfile"), "FROM debian:bookworm\nRUN --security=insecure true\n");
        CageHarness.Result result = build(name("bad"), context);
        assertEquals(2, result.exitCode(), result.toString());
        assertTrue(result.stderr().contains("Dockerfile:2: RUN --security=insecure true: --security=insecure is not "
                + "supported"), result.toString());

        Files.writeString(context.resolve("Dockerfile"), "FROM debian:bookworm\nCOPY missing.txt /\n");
        CageHarness.Result missing = build(name("missing"), context);
        assertEquals(2, missing.exitCode(), missing.toString());
        assertTrue(missing.stderr().contains("Dockerfile:2: COPY missing.txt /: 'missing.txt' is not in the build context"),
                missing.toString());
    }

    @Test
    void imagesListsBuiltImagesAndImageRmRemovesThem() throws Exception {
        Files.writeString(context.resolve("Dockerfile"), "FROM debian:bookworm\nRUN echo x > /x\n");
        String name = name("listed");
        assertEquals(0, build(name, context).exitCode());
        CageHarness.Result listed = CageHarness.launch(List.of("images"));
        assertTrue(listed.stdout().startsWith("NAME"), listed.toString());
        assertTrue(listed.stdout().contains(name + ":latest"), listed.toString());
        CageHarness.Result removed = CageHarness.launch(List.of("image", "rm", name));
        assertEquals(0, removed.exitCode(), removed.toString());
        assertTrue(removed.stdout().contains("removed " + name + ":latest"), removed.toString());
        images.remove(name);
        assertFalse(CageHarness.launch(List.of("images")).stdout().contains(name));
        CageHarness.Result gone = runIn(name, "true");
        assertEquals(125, gone.exitCode(), gone.toString());
        assertTrue(gone.stderr().contains("hint: build it with"), gone.toString());
    }
}
