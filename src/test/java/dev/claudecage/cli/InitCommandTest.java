package dev.claudecage.cli;

import dev.claudecage.config.ConfigKey;
import dev.claudecage.config.ConfigLoader;
import dev.claudecage.config.EffectiveConfig;
import dev.claudecage.config.HostFacts;
import dev.claudecage.host.HostIds;
import dev.claudecage.process.ProcessRunner;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** claude-cage init in a Node project on GitHub: what it finds, what it proposes, and that it asks before writing. */
class InitCommandTest {

    @TempDir
    Path dir;

    private Path project;
    private Path userFile;
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeEach
    void aNodeProjectOnGithub() throws IOException {
        project = Files.createDirectories(dir.resolve("src/app")).toRealPath();
        Files.writeString(project.resolve("package.json"), "{}");
        Files.createDirectories(project.resolve(".git"));
        Files.writeString(project.resolve(".git/config"), "[remote \"origin\"]\n\turl = git@github.com:you/app.git\n");
        userFile = dir.resolve("home/.config/claude-cage/config.yaml");
        Files.createDirectories(userFile.getParent());
        Files.writeString(userFile, "# mine\nmemory: 2g\n");
    }

    private ConfigLoader loader() {
        return new ConfigLoader(dir.resolve("no-system.yaml"), userFile, Map.of(),
                new HostFacts(2, false, Optional.of(new HostIds(4242, 4242)), List.of()), project);
    }

    private int init(String answer, String... args) {
        InitCommand command = new InitCommand(new ByteArrayInputStream(answer.getBytes(StandardCharsets.UTF_8)));
        command.context = new Context(new ProcessRunner(false), this::loader, () -> {
            throw new AssertionError("init reads no state");
        });
        return new CommandLine(command)
                .setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).setExecutionExceptionHandler(new ErrorHandler())
                .execute(args);
    }

    @Test
    void findsTheEcosystemsAndWritesTheSectionOnYes() throws IOException {
        assertEquals(0, init("y\n"), err.toString());
        String shown = out.toString();
        assertTrue(shown.startsWith("In " + project + ":\n"), shown);
        assertTrue(shown.contains("package.json            -> preset:npm\n"), shown);
        assertTrue(shown.contains(".git remote github.com  -> preset:github\n"), shown);
        assertTrue(shown.contains("Add this section to " + userFile + ":"), shown);
        assertTrue(shown.contains("Write it? [y/N] Written to " + userFile + "."), shown);

        assertTrue(Files.readString(userFile).startsWith("# mine\nmemory: 2g\nprojects:\n  " + project + ":\n"));
        EffectiveConfig effective = loader().load(Map.of());
        assertEquals(Optional.of(project), effective.project());
        assertTrue(effective.config().allowedHosts().containsAll(List.of("api.anthropic.com", "registry.npmjs.org",
                "github.com", "github.com:22")), effective.config().allowedHosts().toString());
        assertEquals(project, effective.config().mounts().get(0).source());
        assertEquals(userFile + " (project " + project + ")", effective.origin(ConfigKey.MOUNTS));

        out.getBuffer().setLength(0);
        assertEquals(0, init("", "--yes"));
        assertTrue(out.toString().contains("Replace this folder's section of " + userFile + ":"), out.toString());
    }

    @Test
    void writesNothingUnlessTheAnswerIsYes() throws IOException {
        String before = Files.readString(userFile);
        assertEquals(1, init("n\n"));
        assertTrue(out.toString().endsWith("Write it? [y/N] Nothing written.\n"), out.toString());
        assertEquals(1, init("\n"));
        assertEquals(0, init("", "--dry-run"));
        assertEquals(1, init(""), "no answer at all");
        assertTrue(err.toString().contains("claude-cage: no answer on standard input\n  hint: answer y, or run claude-cage init --yes"),
                err.toString());
        assertEquals(before, Files.readString(userFile));
        assertFalse(Files.exists(project.resolve(".claude-cage.yaml")));
    }

    @Test
    void theDryRunShowsTheSectionAsItWouldBeWritten() {
        assertEquals(0, init("", "--dry-run"));
        assertTrue(out.toString().contains("projects:\n  " + project + ":\n    allowed_hosts:\n      - api.anthropic.com\n"
                + "      - preset:npm\n      - preset:github\n    mounts:\n      - " + project + ":/workspace\n"), out.toString());
    }
}
