package dev.claudecage.config;

import dev.claudecage.UserInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The per-project layer: the user's file's section for the folder a command runs in, between the
 * user's own keys and the environment; and the section `init` writes there.
 */
class ProjectLayerTest {

    @TempDir
    Path dir;

    private ConfigFixture fixture() {
        return new ConfigFixture(dir);
    }

    private static String section(Path folder, String body) {
        return "projects:\n  " + folder + ":\n" + body.indent(4);
    }

    @Test
    void theSectionOfTheWorkingDirectoryAppliesBetweenTheUsersKeysAndTheEnvironment() {
        Path app = fixture().directory("src/app");
        ConfigFixture fixture = fixture().user("memory: 2g\ncpus: 1\n" + section(app, "memory: 3g\npids_limit: 99"))
                .env("CLAUDE_CAGE_PIDS_LIMIT", "77");
        EffectiveConfig effective = fixture.loaderIn(app).load(Map.of());
        assertEquals(3L << 30, effective.config().memoryBytes());
        assertEquals(fixture.userFile + " (project " + app + ")", effective.origin(ConfigKey.MEMORY));
        assertEquals(1.0, effective.config().cpus(), "the user's own key stays where the section does not set it");
        assertEquals(77, effective.config().pidsLimit(), "the environment overrides the section");
        assertEquals(Optional.of(app), effective.project());
        EffectiveConfig flagged = fixture.loaderIn(app).load(Map.of("memory", "1g"));
        assertEquals("flag --memory", flagged.origin(ConfigKey.MEMORY));
    }

    @Test
    void aSubfolderGetsTheNearestSectionAboveItAndNoOtherFolderGetsOne() {
        Path app = fixture().directory("src/app");
        Path nested = fixture().directory("src/app/tools");
        Path deeper = fixture().directory("src/app/tools/bin");
        Path sibling = fixture().directory("src/app2");
        ConfigFixture fixture = fixture().user(section(app, "memory: 3g") + section(nested, "memory: 5g").substring("projects:\n".length()));
        assertEquals(5L << 30, fixture.loaderIn(deeper).load(Map.of()).config().memoryBytes());
        assertEquals(3L << 30, fixture.loaderIn(app).load(Map.of()).config().memoryBytes());
        EffectiveConfig elsewhere = fixture.loaderIn(sibling).load(Map.of());
        assertEquals(4L << 30, elsewhere.config().memoryBytes(), "/src/app2 is not below /src/app");
        assertEquals(Optional.empty(), elsewhere.project());
        assertEquals(ConfigLoader.BUILT_IN_DEFAULT, elsewhere.origin(ConfigKey.MEMORY));
    }

    @Test
    void aLinkOnEitherSideLeadsToTheSameSection() throws IOException {
        Path app = fixture().directory("src/app");
        Path link = Files.createSymbolicLink(dir.resolve("link-to-app"), app);
        assertEquals(3L << 30, fixture().user(section(app, "memory: 3g")).loaderIn(link).load(Map.of()).config().memoryBytes(),
                "run in a link to the folder");
        assertEquals(3L << 30, fixture().user(section(link, "memory: 3g")).loaderIn(app).load(Map.of()).config().memoryBytes(),
                "a section written with the link");
    }

    @Test
    void aBadValueInASectionNamesTheFileTheProjectAndTheLine() {
        Path app = fixture().directory("app");
        ConfigFixture fixture = fixture().user("memory: 2g\n" + section(app, "memory: lots"));
        String message = assertThrows(UserInputException.class, () -> fixture.loaderIn(app).load(Map.of())).getMessage();
        assertEquals("memory: 'lots' is not a size (from " + fixture.userFile + " (project " + app + "), line 4); "
                + "use a whole number with a unit b, k, m, g or t, e.g. 512m or 4g, at least 16m", message);
        assertEquals(2L << 30, fixture.loader().load(Map.of()).config().memoryBytes(),
                "elsewhere the section is not used (config --validate FILE checks it)");
        assertThrows(UserInputException.class, () -> fixture.loader().validateFile(fixture.userFile));
    }

    @Test
    void sectionsBelongInTheUsersFileUnderAbsoluteFolders() {
        ConfigFixture system = fixture().system("projects:\n  /srv/app:\n    memory: 2g\n");
        assertTrue(system.loadError().startsWith("'projects' in " + system.systemFile + " (line 1) is not allowed there"),
                system.loadError());
        ConfigFixture relative = fixture().user("projects:\n  src/app:\n    memory: 2g\n");
        assertEquals("a project in " + relative.userFile + " (line 2) is 'src/app', not the absolute path of a folder, "
                + "such as /home/you/src/app", relative.loadError());
        ConfigFixture list = fixture().user("projects: [/srv/app]\n");
        assertTrue(list.loadError().contains("is a list, not a mapping of project folders to their settings"),
                list.loadError());
        ConfigFixture unknown = fixture().user("projects:\n  /srv/app:\n    memroy: 2g\n");
        assertEquals("unknown key 'memroy' in " + unknown.userFile + " (project /srv/app) (line 3); did you mean 'memory'?",
                unknown.loadError());
    }

    /**
     * The file that sets every cage's policy must not be the cage's to write: with a home folder mounted whole,
     * the agent could rewrite allowed_hosts or api_upstream (where the gateway sends the user's key) for its
     * next cage. Before, such a mount was accepted.
     */
    @Test
    void aWritableMountThatHoldsTheUsersConfigurationIsRefused() throws IOException {
        Path home = fixture().directory("home");
        ConfigFixture fixture = fixture().user("memory: 2g\n");
        String message = assertThrows(UserInputException.class,
                () -> fixture.loader().load(Map.of("mounts", List.of(home + ":/workspace")))).getMessage();
        assertTrue(message.startsWith("mounts: '" + home + ":/workspace:rw' makes " + fixture.userFile
                + " writable in the cage (from flag --mount): that file sets the policy of every cage"), message);
        // Not there yet counts too: the cage could create it.
        Files.delete(fixture.userFile);
        assertThrows(UserInputException.class, () -> fixture.loader().load(Map.of("mounts", List.of(home + ":/workspace"))));
        // Control: read-only, or a folder beside it, is fine.
        assertEquals(1, fixture.loader().load(Map.of("mounts", List.of(home + ":/workspace:ro"))).config().mounts().size());
        Path project = fixture().directory("home/src/app");
        assertEquals(1, fixture.loader().load(Map.of("mounts", List.of(project + ":/workspace"))).config().mounts().size());
    }

    @Test
    void saveWritesTheSectionKeepsTheRestOfTheFileAndItsPermissionsAndTheLayerUsesIt() throws IOException {
        Path app = fixture().directory("src/app");
        ConfigFixture fixture = fixture().user("# my settings\nmemory: 2g # enough\n\n# the end\n");
        Files.setPosixFilePermissions(fixture.userFile, PosixFilePermissions.fromString("rw-------"));
        Map<ConfigKey, Object> settings = new LinkedHashMap<>();
        settings.put(ConfigKey.ALLOWED_HOSTS, List.of("api.anthropic.com", "preset:npm"));
        settings.put(ConfigKey.MOUNTS, List.of(app + ":/workspace"));
        assertEquals(fixture.userFile, fixture.loaderIn(app).saveProjectSection(settings));
        // The comments stay, the one that ended the file at its end.
        assertEquals("# my settings\nmemory: 2g # enough\nprojects:\n  " + app + ":\n    allowed_hosts:\n"
                + "      - api.anthropic.com\n      - preset:npm\n    mounts:\n      - " + app + ":/workspace\n\n# the end\n",
                Files.readString(fixture.userFile));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(fixture.userFile)));
        EffectiveConfig effective = fixture.loaderIn(app).load(Map.of());
        assertEquals(List.of("api.anthropic.com", "registry.npmjs.org", "registry.yarnpkg.com"),
                effective.config().allowedHosts());
        assertEquals("/workspace", effective.config().mounts().get(0).target());
        assertEquals("preset:npm in " + fixture.userFile + " (project " + app + ")",
                effective.allowedHostPresets().get("registry.npmjs.org") + " in " + effective.origin(ConfigKey.ALLOWED_HOSTS));

        // Again, with other settings: the section is replaced, not added twice.
        settings.put(ConfigKey.ALLOWED_HOSTS, List.of("preset:go"));
        fixture.loaderIn(app).saveProjectSection(settings);
        assertEquals(1, Files.readString(fixture.userFile).split(app.toString() + ":\n", -1).length - 1,
                Files.readString(fixture.userFile));
        assertEquals(List.of("proxy.golang.org", "sum.golang.org", "storage.googleapis.com"),
                fixture.loaderIn(app).load(Map.of()).config().allowedHosts());
        assertTrue(Files.readString(fixture.userFile).startsWith("# my settings\nmemory: 2g # enough\n"));
    }

    @Test
    void saveWritesNothingThatARunWouldRefuse() throws IOException {
        Path home = fixture().directory("home");
        ConfigFixture fixture = fixture().user("memory: 2g\n");
        String before = Files.readString(fixture.userFile);
        Map<ConfigKey, Object> holdsTheFile = Map.of(ConfigKey.MOUNTS, List.of(home + ":/workspace"));
        assertThrows(UserInputException.class, () -> fixture.loaderIn(home).saveProjectSection(holdsTheFile));
        Map<ConfigKey, Object> badHost = Map.of(ConfigKey.ALLOWED_HOSTS, List.of("preset:nope"));
        assertThrows(UserInputException.class, () -> fixture.loaderIn(home).saveProjectSection(badHost));
        assertEquals(before, Files.readString(fixture.userFile));
        try (var files = Files.list(fixture.userFile.getParent())) {
            assertEquals(List.of(fixture.userFile), files.toList(), "no temporary file left");
        }
    }

    @Test
    void saveCreatesTheFileAndWritesThroughALinkToIt() throws IOException {
        Path app = fixture().directory("app");
        ConfigFixture fresh = fixture();
        assertFalse(Files.exists(fresh.userFile));
        fresh.loaderIn(app).saveProjectSection(Map.of(ConfigKey.MEMORY, "3g"));
        assertEquals("projects:\n  " + app + ":\n    memory: 3g\n", Files.readString(fresh.userFile));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(fresh.userFile)));

        Path dotfiles = fixture().directory("dotfiles");
        Files.move(fresh.userFile, dotfiles.resolve("config.yaml"));
        Files.createSymbolicLink(fresh.userFile, dotfiles.resolve("config.yaml"));
        fresh.loaderIn(app).saveProjectSection(Map.of(ConfigKey.MEMORY, "5g"));
        assertTrue(Files.isSymbolicLink(fresh.userFile), "the link stays a link");
        assertEquals("projects:\n  " + app + ":\n    memory: 5g\n", Files.readString(dotfiles.resolve("config.yaml")));
    }
}
