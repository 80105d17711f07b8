package dev.claudecage.session;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SupervisorLauncherTest {

    @Test
    void theSupervisorRunsDetachedFromItsOwnJarCopyWithSmallJvmSettings(@TempDir Path dir) throws Exception {
        Path jar = Files.writeString(dir.resolve("claude-cage.jar"), "pretend jar");
        String pinned = SupervisorLauncher.pinnedClassPath(jar.toString(), dir.resolve("pins"));
        assertTrue(pinned.startsWith(dir.resolve("pins/claude-cage-").toString()), pinned);
        assertEquals("pretend jar", Files.readString(Path.of(pinned)));
        assertEquals(pinned, SupervisorLauncher.pinnedClassPath(jar.toString(), dir.resolve("pins")), "one copy per version");
        Files.writeString(jar, "rebuilt jar");
        String rebuilt = SupervisorLauncher.pinnedClassPath(jar.toString(), dir.resolve("pins"));
        assertTrue(!rebuilt.equals(pinned) && Files.readString(Path.of(pinned)).equals("pretend jar"),
                "a rebuilt jar must not change a running supervisor's copy");

        List<String> command = SupervisorLauncher.command(Path.of("/usr/bin/java"), pinned, SessionName.of("brisk-otter"),
                List.of("-XX:SharedArchiveFile=/x.jsa"));
        assertEquals(List.of("setsid", "--fork", "env", "-C", "/", "MALLOC_ARENA_MAX=2", "/usr/bin/java"),
                command.subList(0, 7));
        assertTrue(command.contains("-Xmx64m") && command.contains("-XX:+UseSerialGC"), command.toString());
        assertEquals("-XX:SharedArchiveFile=/x.jsa", command.get(command.size() - 5), "the archive's flags come last, "
                + "after the JVM's own");
        assertEquals(List.of("-cp", pinned, SupervisorMain.class.getName(), "brisk-otter"),
                command.subList(command.size() - 4, command.size()));
        assertTrue(HostProbe.isSupervisorCommand(command, SessionName.of("brisk-otter")));
    }

    @Test
    void aJarRewrittenInPlaceWithTheSameSizeGetsACopyOfItsOwn(@TempDir Path dir) throws Exception {
        Path jar = Files.writeString(dir.resolve("claude-cage.jar"), "version one");
        String first = SupervisorLauncher.pinnedClassPath(jar.toString(), dir.resolve("pins"));
        Files.writeString(jar, "version two");
        String second = SupervisorLauncher.pinnedClassPath(jar.toString(), dir.resolve("pins"));
        assertTrue(!first.equals(second), "the copy is found by the jar's file attributes, which a rewrite changes");
        assertEquals("version two", Files.readString(Path.of(second)));
        assertEquals("version one", Files.readString(Path.of(first)));
    }

    @Test
    void classFoldersStayAsTheyAreButAbsolute() {
        String path = SupervisorLauncher.pinnedClassPath("target/classes" + java.io.File.pathSeparator + "lib/x.jar",
                Path.of("/nonexistent"));
        assertTrue(path.startsWith("/"), path);
    }
}
