package dev.claudecage.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * bin/claude-cage's choice of JVM: {@code $JAVA_HOME}'s when set, and never one older than 17; and
 * of its class-data archive, used only while its stamp names this jar and this java unchanged.
 * Each JDK here is a stand-in: a release file and a {@code bin/java} script that says it ran.
 */
class LauncherJavaTest {

    private static final Path LAUNCHER = Path.of("bin/claude-cage").toAbsolutePath();

    @TempDir
    Path dir;

    private Path jdk(String name, String releaseVersion) throws IOException {
        Path home = Files.createDirectories(dir.resolve(name).resolve("bin")).getParent();
        Path java = home.resolve("bin/java");
        Files.writeString(java, "#!/bin/sh\necho \"" + name + " ran: $*\"\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        if (releaseVersion != null) {
            Files.writeString(home.resolve("release"), "IMPLEMENTOR=\"Test\"\nJAVA_RUNTIME_VERSION=\"" + releaseVersion
                    + "+7-Test\"\nJAVA_VERSION=\"" + releaseVersion + "\"\n");
        }
        return home;
    }

    /** The jar, written once: its mtime is part of the archive's stamp. */
    private Path jar() throws IOException {
        Path jar = dir.resolve("claude-cage.jar");
        return Files.exists(jar) ? jar : Files.writeString(jar, "not read by a stand-in java");
    }

    /**
     * An archive beside the jar, and its stamp as bench/cds.sh writes it: the jar, the java's real
     * path, the JDK's build, and the jar's mtime as the stamp's own.
     */
    private Path archiveFor(Path javaHome, String build) throws IOException {
        return archiveFor("claude-cage.jsa", javaHome, build);
    }

    private Path archiveFor(String name, Path javaHome, String build) throws IOException {
        Path jar = jar();
        Path archive = Files.writeString(dir.resolve(name), "not read by a stand-in java");
        Path stamp = Files.writeString(dir.resolve(name + ".stamp"),
                jar + "\n" + javaHome.resolve("bin/java") + "\n" + build + "\n");
        Files.setLastModifiedTime(stamp, Files.getLastModifiedTime(jar));
        return archive;
    }

    private record Outcome(int exit, String output) {
    }

    private Outcome launch(Path javaHome) throws IOException, InterruptedException {
        return launch(javaHome, List.of(LAUNCHER.toString(), "version"));
    }

    private Outcome launch(Path javaHome, List<String> command) throws IOException, InterruptedException {
        return launch(javaHome, command, jar(), Map.of());
    }

    private Outcome launch(Path javaHome, List<String> command, Path jar, Map<String, String> environment)
            throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("JAVA_HOME", javaHome.toString());
        builder.environment().put("CLAUDE_CAGE_JAR", jar.toString());
        builder.environment().putAll(environment);
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        return new Outcome(process.exitValue(), output);
    }

    @Test
    void runsTheJavaOfJavaHome() throws Exception {
        Outcome outcome = launch(jdk("jdk25", "25.0.1"));
        assertEquals(0, outcome.exit(), outcome.output());
        assertTrue(outcome.output().startsWith("jdk25 ran: "), outcome.output());
        assertTrue(outcome.output().contains("-jar " + dir.resolve("claude-cage.jar") + " version"), outcome.output());
    }

    @Test
    void refusesAJavaOlderThan17AndSaysWhichItFound() throws Exception {
        for (String version : List.of("11.0.2", "1.8.0_292", "16")) {
            Path home = jdk("old-" + version, version);
            Outcome outcome = launch(home);
            assertEquals(125, outcome.exit(), outcome.output());
            assertTrue(outcome.output().contains("needs Java 17 or newer, and " + home.resolve("bin/java")
                    + " is Java " + version), outcome.output());
            assertTrue(!outcome.output().contains("ran:"), "the old java must not be started: " + outcome.output());
        }
    }

    @Test
    void aJdkWithoutAReleaseFileStartsUnchecked() throws Exception {
        Outcome outcome = launch(jdk("unlabelled", null));
        assertEquals(0, outcome.exit(), outcome.output());
        assertTrue(outcome.output().startsWith("unlabelled ran: "), outcome.output());
    }

    @Test
    void aJavaHomeWithoutJavaIsAnError() throws Exception {
        Outcome outcome = launch(dir.resolve("nothing-here"));
        assertEquals(125, outcome.exit(), outcome.output());
        assertTrue(outcome.output().contains("no java found at " + dir.resolve("nothing-here/bin/java")), outcome.output());
    }

    /** The launcher says which standard descriptors are terminals, so the JVM need not load JNA to ask. */
    @Test
    void tellsTheJvmWhichDescriptorsAreTerminals() throws Exception {
        Path home = jdk("jdk17", "17.0.9");
        Outcome piped = launch(home);
        assertTrue(piped.output().contains("-Dclaudecage.terminals= "), "pipes are not terminals: " + piped.output());
        // script(1) gives the launcher a pseudo-terminal on all three: the control that the check sees one.
        Outcome onTerminal = launch(home, List.of("script", "-qec", LAUNCHER + " version", "/dev/null"));
        assertEquals(0, onTerminal.exit(), onTerminal.output());
        assertTrue(onTerminal.output().contains("-Dclaudecage.terminals=012 "), onTerminal.output());
    }

    @Test
    void mapsTheArchiveWhileItsStampNamesThisJarAndThisJava() throws Exception {
        Path home = jdk("jdk17", "17.0.9");
        Path archive = archiveFor(home, "17.0.9+7-Test");
        List<String> config = List.of(LAUNCHER.toString(), "doctor");
        Outcome outcome = launch(home, config);
        assertEquals(0, outcome.exit(), outcome.output());
        // With the heap where bench/cds.sh dumps it.
        assertTrue(outcome.output().contains("-XX:SharedArchiveFile=" + archive.toRealPath() + " -XX:HeapBaseMinAddress=2g "),
                outcome.output());

        // Not for the version, which loads none of its classes, nor when it is turned off.
        assertFalse(launch(home).output().contains("SharedArchiveFile"));
        assertFalse(launch(home, config, jar(), Map.of("CLAUDE_CAGE_CDS", "0")).output().contains("SharedArchiveFile"));
        // Another JDK, or this one rebuilt (its release names another build).
        assertFalse(launch(jdk("jdk21", "21.0.1"), config).output().contains("SharedArchiveFile"));
        archiveFor(home, "17.0.8+1-Test");
        assertFalse(launch(home, config).output().contains("SharedArchiveFile"));
        archiveFor(home, "17.0.9+7-Test");
        assertTrue(launch(home, config).output().contains("SharedArchiveFile"), "the control: the stamp matches again");
        // A jar written since, even in place.
        Files.setLastModifiedTime(jar(), FileTime.fromMillis(Files.getLastModifiedTime(jar()).toMillis() + 1));
        assertFalse(launch(home, config).output().contains("SharedArchiveFile"));
    }

    /** The archive records the jar's path: the jar is named by its canonical path however it was found. */
    @Test
    void namesTheJarByItsCanonicalPath() throws Exception {
        Path home = jdk("jdk17", "17.0.9");
        Path linked = Files.createSymbolicLink(dir.resolve("linked"), dir).resolve("claude-cage.jar");
        List<String> config = List.of(LAUNCHER.toString(), "doctor");
        String expected = "-jar " + jar().toRealPath() + " doctor";
        assertTrue(launch(home, config, linked, Map.of()).output().contains(expected), "without a stamp");
        archiveFor(home, "17.0.9+7-Test");
        Outcome stamped = launch(home, config, linked, Map.of());
        assertTrue(stamped.output().contains("SharedArchiveFile") && stamped.output().contains(expected), stamped.output());
    }

    /**
     * The light commands map the light archive, of their own classes only, and fall back from a stale
     * one as from a stale full one, to the JDK's own; everything else, and JSON output, maps the full one.
     */
    @Test
    void mapsTheLightArchiveForTheLightCommandsOnly() throws Exception {
        Path home = jdk("jdk17", "17.0.9");
        Path full = archiveFor(home, "17.0.9+7-Test").toRealPath();
        Path light = archiveFor("claude-cage.light.jsa", home, "17.0.9+7-Test").toRealPath();
        for (List<String> arguments : List.of(List.of("list"), List.of("ps"), List.of("status", "s1"), List.of("logs", "s1"),
                List.of("config"), List.of("help", "run"), List.of("--help"))) {
            String output = launch(home, launcher(arguments)).output();
            assertTrue(output.contains("-XX:SharedArchiveFile=" + light + " "), arguments + ": " + output);
        }
        for (List<String> arguments : List.of(List.of("run", "--", "list"), List.of("inspect", "s1"), List.of("start", "s1"),
                List.of("config", "--json"), List.of("list", "--json"))) {
            String output = launch(home, launcher(arguments)).output();
            assertTrue(output.contains("-XX:SharedArchiveFile=" + full + " "), arguments + ": " + output);
        }
        // A stale light archive (another JDK build's) is not used, nor is the full one in its place.
        archiveFor("claude-cage.light.jsa", home, "17.0.8+1-Test");
        assertFalse(launch(home, launcher(List.of("config"))).output().contains("SharedArchiveFile"));
        assertTrue(launch(home, launcher(List.of("doctor"))).output().contains("-XX:SharedArchiveFile=" + full + " "));
        Files.delete(light);
        Files.delete(dir.resolve("claude-cage.light.jsa.stamp"));
        assertFalse(launch(home, launcher(List.of("config"))).output().contains("SharedArchiveFile"), "nor a missing one");
    }

    private static List<String> launcher(List<String> arguments) {
        return Stream.concat(Stream.of(LAUNCHER.toString()), arguments.stream()).toList();
    }

    /** JNA's library unpacked beside the jar is named to JNA only while its stamp carries the jar's mtime. */
    @Test
    void namesJnasUnpackedLibraryWhileItsStampMatchesTheJar() throws Exception {
        Path home = jdk("jdk17", "17.0.9");
        Path unpacked = Files.createDirectories(dir.resolve("claude-cage.native"));
        Path stamp = Files.writeString(unpacked.resolve("stamp"), "");
        Files.setLastModifiedTime(stamp, Files.getLastModifiedTime(jar()));
        List<String> config = List.of(LAUNCHER.toString(), "config");
        assertTrue(launch(home, config).output().contains("-Djna.boot.library.path=" + unpacked + " "));
        Files.setLastModifiedTime(stamp, FileTime.fromMillis(Files.getLastModifiedTime(jar()).toMillis() - 1000));
        assertFalse(launch(home, config).output().contains("jna.boot.library.path"));
    }
}
