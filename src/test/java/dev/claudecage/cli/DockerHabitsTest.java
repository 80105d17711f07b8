package dev.claudecage.cli;

import dev.claudecage.config.ConfigKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.AutoComplete;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What Docker and podman users type works: the aliases and short flags, in help and completion too. */
class DockerHabitsTest {

    @TempDir
    Path dir;

    private static Object commandFor(String... args) {
        CommandLine.ParseResult parsed = Main.commandLine(Context.forThisHost(), args).parseArgs(args);
        return parsed.subcommand().commandSpec().userObject();
    }

    @Test
    void theAliasesNameTheirCommands() {
        assertInstanceOf(ListCommand.class, commandFor("ps"));
        assertInstanceOf(DestroyCommand.class, commandFor("rm", "some-session"));
        assertInstanceOf(ShellCommand.class, commandFor("exec", "some-session", "--", "ls"));
        assertInstanceOf(InspectCommand.class, commandFor("inspect", "some-session"));
        // The fast path (one subcommand's model) knows the aliases as the whole model does.
        assertEquals(List.of("destroy"), List.copyOf(Main.commandLine(Context.forThisHost(), "rm", "x").getSubcommands().keySet()).subList(0, 1));
    }

    @Test
    void theShortFlagsSetTheSameKeysAsTheLongOnes() throws Exception {
        Path envFile = Files.writeString(dir.resolve("env"), "# docker's format\nFROM_FILE=1\nSHARED=file\n");
        RunCommand run = (RunCommand) commandFor("run", "-v", "/srv/a:/workspace:ro", "-e", "SHARED=flag",
                "--env-file", envFile.toString(), "-w", "/workspace/src", "-d", "--name", "web", "--", "make");
        Map<String, Object> flags = run.options.asFlags();
        assertEquals(List.of("/srv/a:/workspace:ro"), flags.get(ConfigKey.MOUNTS.yamlName()));
        // The file's variables first, then -e's, so that -e wins where both name one.
        assertEquals(List.of("FROM_FILE=1", "SHARED=file", "SHARED=flag"), flags.get(ConfigKey.ENV.yamlName()));
        assertEquals("/workspace/src", flags.get(ConfigKey.WORKDIR.yamlName()));
        assertTrue(run.detach);
        assertEquals("web", run.name.name);
        StartCommand start = (StartCommand) commandFor("start", "-p", "127.0.0.1:6081:6080", "-d");
        assertEquals("127.0.0.1:6081:6080", start.port);
        assertTrue(start.detach);
    }

    @Test
    void helpShowsTheAliasesAndTheShortFlags() {
        String help = Main.commandLine(Context.forThisHost()).getUsageMessage();
        for (String row : List.of("shell, exec", "list, ps", "destroy, rm", "inspect")) {
            assertTrue(help.lines().anyMatch(line -> line.strip().startsWith(row)), row + " in\n" + help);
        }
        String runHelp = Main.commandLine(Context.forThisHost(), "run").getSubcommands().get("run").getUsageMessage();
        for (String flag : List.of("-v, --mount", "-e, --env", "--env-file", "-w, --workdir", "-d, --detach")) {
            assertTrue(runHelp.contains(flag), flag + " in\n" + runHelp);
        }
        assertTrue(Main.commandLine(Context.forThisHost(), "start").getSubcommands().get("start").getUsageMessage().contains("-p, --port"));
    }

    @Test
    void bashCompletionOffersThem() {
        String script = AutoComplete.bash("claude-cage", Main.commandLine(Context.forThisHost()));
        assertTrue(script.contains("shell exec status inspect"), "commands with their aliases");
        assertTrue(script.contains(" ps ") && script.contains(" rm "), "ps and rm");
        assertTrue(script.contains("'--workdir' '-w'") && script.contains("'--env-file'"), "the run flags");
    }

    @Test
    void aSessionNameWithoutDetachIsRefused() {
        StringWriter err = new StringWriter();
        int code = Main.commandLine(Context.forThisHost(), "run").setErr(new PrintWriter(err))
                .setExecutionExceptionHandler(new ErrorHandler())
                .execute("run", "--name", "web", "--", "true");
        assertEquals(2, code);
        assertTrue(err.toString().contains("--name names a session, and run without --detach starts none"), err.toString());
    }
}
