package dev.claudecage.image.build;

import dev.claudecage.host.FileLock;
import dev.claudecage.image.store.Digest;
import dev.claudecage.image.store.ImageConfig;
import dev.claudecage.image.store.ImageName;
import dev.claudecage.image.store.ImageStore;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The record of a whole build answers a rebuild only while every input is as it was: each input
 * changed on its own must miss, and a record that would answer a stale image must not be believed.
 */
class BuildRecordTest {

    private static final String DOCKERFILE = "FROM base:1\nCOPY *.txt /opt/\nRUN cat /opt/a.txt\n";
    private static final String BUILDER = "1.0 123 456 (dev=1,ino=2)";

    @TempDir
    Path dir;

    private ImageStore store;
    private Path context;
    private Path dockerfile;
    private Digest base;
    private Digest otherBase;
    private Digest built;
    private List<Digest> builtLayers;

    @BeforeEach
    void storeAndContext() throws Exception {
        store = new ImageStore(dir.resolve("images"));
        FileLock lock = store.lock(message -> { });
        try {
            Digest baseLayer = layer("base", "debian");
            base = store.commitImage(image(baseLayer));
            otherBase = store.commitImage(image(layer("base", "alpine")));
            builtLayers = List.of(baseLayer, layer("opt", "copied"));
            built = store.commitImage(image(builtLayers.toArray(Digest[]::new)));
            store.tag(ImageName.parse("base:1"), base);
        } finally {
            lock.close();
        }
        context = Files.createDirectories(dir.resolve("context"));
        Files.writeString(context.resolve("a.txt"), "a\n");
        Files.writeString(context.resolve("b.txt"), "b\n");
        Files.writeString(context.resolve("notes.md"), "not copied\n");
        dockerfile = Files.writeString(context.resolve("Dockerfile"), DOCKERFILE);
    }

    private Digest layer(String file, String content) throws Exception {
        Path layer = store.createWorkDirectory("test");
        Files.writeString(layer.resolve(file), content);
        return store.commitLayer(layer).digest();
    }

    private static ImageConfig image(Digest... layers) {
        ImageConfig config = new ImageConfig("amd64", ImageConfig.LINUX, null, null, ImageConfig.Settings.EMPTY, null, null);
        for (Digest layer : layers) {
            config = config.withStep(layer, new ImageConfig.History("2026-01-01T00:00:00Z", "test", null));
        }
        return config;
    }

    /** What a build of DOCKERFILE would record: FROM base:1 found, COPY *.txt read. */
    private BuildRecord recordOfTheBuild() throws Exception {
        SourceTree tree = SourceTree.context(context);
        List<String> sources = List.of("*.txt");
        return new BuildRecord(built, builtLayers, List.of("FROM base:1", "COPY *.txt /opt/", "RUN cat /opt/a.txt"),
                List.of(), Map.of("base:1", base.toString()),
                List.of(new BuildRecord.ContextRead(sources, tree.hash(tree.match(sources)))));
    }

    private boolean holds(BuildRecord record) {
        return record.holds(store, SourceTree.context(context));
    }

    @Test
    void theKeyChangesWithTheDockerfileTheBuildArgsAndTheBuilder() {
        Digest key = BuildRecord.key(DOCKERFILE, Map.of("A", "1"), BUILDER);
        assertEquals(key, BuildRecord.key(DOCKERFILE, Map.of("A", "1"), BUILDER), "the same inputs, the same key");
        assertNotEquals(key, BuildRecord.key(DOCKERFILE + "ENV X=1\n", Map.of("A", "1"), BUILDER));
        assertNotEquals(key, BuildRecord.key(DOCKERFILE.replace("a.txt", "b.txt"), Map.of("A", "1"), BUILDER));
        assertNotEquals(key, BuildRecord.key(DOCKERFILE, Map.of("A", "2"), BUILDER), "an arg's value");
        assertNotEquals(key, BuildRecord.key(DOCKERFILE, Map.of("A", "1", "B", ""), BUILDER), "an arg more");
        assertNotEquals(key, BuildRecord.key(DOCKERFILE, Map.of(), BUILDER), "an arg less");
        assertNotEquals(key, BuildRecord.key(DOCKERFILE, Map.of("A", "1"), "1.0 124 456 (dev=1,ino=2)"),
                "a rebuilt builder");
        assertNotEquals(BuildRecord.key("FROM x\n", Map.of("A", "1=B"), BUILDER),
                BuildRecord.key("FROM x\n", Map.of("A=1", "B"), BUILDER), "names and values cannot run into each other");
    }

    @Test
    void anUnchangedBuildHoldsAndSurvivesItsWrittenForm() throws Exception {
        BuildRecord record = recordOfTheBuild();
        assertTrue(holds(record), "the positive control: nothing changed");
        assertEquals(Optional.of(record), BuildRecord.parse(record.toJson()));
    }

    @Test
    void aChangedCopySourceMisses() throws Exception {
        BuildRecord record = recordOfTheBuild();
        Files.writeString(context.resolve("a.txt"), "a changed\n");
        assertFalse(holds(record), "a.txt's content changed");
    }

    @Test
    void aChangedModeMisses() throws Exception {
        BuildRecord record = recordOfTheBuild();
        Files.setPosixFilePermissions(context.resolve("b.txt"), PosixFilePermissions.fromString("rwxr-xr-x"));
        assertFalse(holds(record));
    }

    @Test
    void aNewFileThePatternMatchesMissesAndOneItDoesNotHolds() throws Exception {
        BuildRecord record = recordOfTheBuild();
        Files.writeString(context.resolve("other.md"), "not copied either\n");
        assertTrue(holds(record), "a file no COPY reads changes nothing");
        Files.writeString(context.resolve("c.txt"), "c\n");
        assertFalse(holds(record), "*.txt now matches c.txt too");
    }

    @Test
    void aDeletedSourceMisses() throws Exception {
        BuildRecord record = recordOfTheBuild();
        Files.delete(context.resolve("a.txt"));
        assertFalse(holds(record));
        Files.delete(context.resolve("b.txt"));
        assertFalse(holds(record), "no source left at all: a miss, not an error");
    }

    @Test
    void aDockerignoreThatHidesASourceMisses() throws Exception {
        BuildRecord record = recordOfTheBuild();
        Files.writeString(context.resolve(".dockerignore"), "b.txt\n");
        assertFalse(holds(record));
    }

    @Test
    void aLinkIsReadAsALinkNeverFollowed() throws Exception {
        Path outside = Files.writeString(dir.resolve("outside.txt"), "host file\n");
        Files.createSymbolicLink(context.resolve("link.txt"), outside);
        BuildRecord record = recordOfTheBuild();
        Files.writeString(outside, "host file changed\n");
        assertTrue(holds(record), "what the link points to is not read (as by the step's key)");
        Files.delete(context.resolve("link.txt"));
        Files.createSymbolicLink(context.resolve("link.txt"), Path.of("a.txt"));
        assertFalse(holds(record), "the link's target changed");
    }

    @Test
    void aRetaggedBaseMisses() throws Exception {
        BuildRecord record = recordOfTheBuild();
        store.tag(ImageName.parse("base:1"), otherBase);
        assertFalse(holds(record));
        store.tag(ImageName.parse("base:1"), base);
        assertTrue(holds(record), "back as it was");
    }

    @Test
    void aLookupThatFoundNothingMissesOnceItFindsSomething() throws Exception {
        BuildRecord nothing = new BuildRecord(built, builtLayers, List.of("FROM base:2"), List.of(),
                Map.of("base:2", ""), List.of());
        assertTrue(holds(nothing));
        store.tag(ImageName.parse("base:2"), otherBase);
        assertFalse(holds(nothing));
    }

    @Test
    void aRemovedImageOrLayerMisses() throws Exception {
        BuildRecord record = recordOfTheBuild();
        store.remove(built.toString());
        assertFalse(holds(record), "the built image is gone");

        BuildRecord missingLayer = new BuildRecord(built, List.of(builtLayers.get(0), Digest.of("gone")), List.of(),
                List.of(), Map.of(), List.of());
        assertFalse(holds(missingLayer));
    }

    @Test
    void aDamagedOrOtherRecordIsNoRecord() throws Exception {
        String json = recordOfTheBuild().toJson();
        assertEquals(Optional.empty(), BuildRecord.parse(json.substring(0, json.length() / 2)));
        assertEquals(Optional.empty(), BuildRecord.parse(json.replace("\"format\" : 1", "\"format\" : 2")));
        assertEquals(Optional.empty(), BuildRecord.parse("[]"));
        assertTrue(BuildRecord.parse(json).isPresent(), "the positive control");
    }

    @Test
    void aFormatOrFieldOfAnotherKindIsNoRecord() throws Exception {
        String json = recordOfTheBuild().toJson();
        assertTrue(json.contains("\"format\" : 1,"), json);
        for (String format : List.of("1.0", "\"1\"", "true", "null", "18446744073709551617")) {
            assertEquals(Optional.empty(), BuildRecord.parse(json.replace("\"format\" : 1,", "\"format\" : " + format + ",")),
                    format);
        }
        assertTrue(json.contains("\"steps\" : [ \"FROM base:1\""), json);
        for (String step : List.of("1", "true", "null", "[ ]")) {
            assertEquals(Optional.empty(), BuildRecord.parse(json.replace("\"steps\" : [ \"FROM base:1\"", "\"steps\" : [ " + step)),
                    step);
        }
        assertTrue(BuildRecord.parse(json).isPresent(), "the positive control");
    }

    /**
     * The whole path a cached build takes: the record found under the key, checked, the name
     * tagged, the steps shown as from the cache; and a changed source, which would make it answer
     * a stale image, a miss.
     */
    @Test
    void aRebuildAnswersTheRecordedImageUntilASourceChanges() throws Exception {
        String builder = BuildRecord.builder();
        BuildRecord record = recordOfTheBuild();
        store.builds().record(BuildRecord.key(DOCKERFILE, Map.of(), builder), record.toJson());
        ImageName name = ImageName.parse("app:latest");
        ImageBuilder.Request request = new ImageBuilder.Request(dockerfile, context, name, Map.of(), false);

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Optional<ImageBuilder.Result> answer = ImageBuilder.recorded(store, request,
                BuildProgress.forStream(new PrintStream(out, true, StandardCharsets.UTF_8), false));
        assertTrue(answer.isPresent(), "the positive control");
        assertEquals(built, answer.get().id());
        assertEquals(3, answer.get().cachedSteps());
        assertEquals(Optional.of(built), store.resolve("app:latest"));
        String shown = out.toString(StandardCharsets.UTF_8);
        assertTrue(shown.contains("[2/3] COPY *.txt /opt/") && shown.contains("[3/3] from the cache"), shown);

        assertEquals(Optional.empty(), ImageBuilder.recorded(store, new ImageBuilder.Request(dockerfile, context, name,
                Map.of(), true), BuildProgress.forStream(System.out, false)), "--no-cache builds");
        assertEquals(Optional.empty(), ImageBuilder.recorded(store, new ImageBuilder.Request(dockerfile, context, name,
                Map.of("A", "1"), false), BuildProgress.forStream(System.out, false)), "other build args");

        Files.writeString(context.resolve("b.txt"), "b changed\n");
        assertEquals(Optional.empty(), ImageBuilder.recorded(store, request, BuildProgress.forStream(System.out, false)),
                "b.txt changed: the recorded image is stale");
        Files.writeString(context.resolve("b.txt"), "b\n");
        Files.writeString(dockerfile, DOCKERFILE + "ENV CHANGED=1\n");
        assertEquals(Optional.empty(), ImageBuilder.recorded(store, request, BuildProgress.forStream(System.out, false)),
                "the Dockerfile changed");
    }
}
