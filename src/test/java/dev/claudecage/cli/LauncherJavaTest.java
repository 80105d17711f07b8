package dev.claudecage.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * bin/claude-cage's choice of JVM: {@code $JAVA_HOME}'s when set, and never one older than 17.
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
            Files.writeString(home.resolve("release"), "IMPLEMENTOR=\"Test\"\nJAVA_VERSION=\"" + releaseVersion + "\"\n");
        }
        return home;
    }

    private record Outcome(int exit, String output) {
    }

    private Outcome launch(Path javaHome) throws IOException, InterruptedException {
        return launch(javaHome, List.of(LAUNCHER.toString(), "version"));
    }

    private Outcome launch(Path javaHome, List<String> command) throws IOException, InterruptedException {
        Path jar = Files.writeString(dir.resolve("claude-cage.jar"), "not read by a stand-in java");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("JAVA_HOME", javaHome.toString());
        builder.environment().put("CLAUDE_CAGE_JAR", jar.toString());
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
}
