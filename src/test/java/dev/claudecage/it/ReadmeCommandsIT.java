package dev.claudecage.it;

import dev.claudecage.testing.ReadmeCommands;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Every claude-cage command in the README's bash blocks, as a reader copies it, in the README's order: those
 * that need no API key and no other account are run here (as root, as their sudo says), and must succeed, or
 * print what their comment says they print. The rest are named with the reason they are not run, so that a
 * command added to the README is run unless someone says why not.
 */
class ReadmeCommandsIT {

    private static final Path README = Path.of("README.md");
    /** Subcommands that act on a session which a line needing the key starts (or on its run's audit log). */
    private static final Set<String> ON_A_KEYED_SESSION = Set.of("attach", "shell", "stop", "destroy", "diff", "apply", "logs",
            "status", "policy", "report", "checkpoint", "checkpoints", "rollback");
    /**
     * What sudo tells the command it runs: who ran it, a person (the README's folders are the reader's own, and
     * a cage works in them as their owner: a writable mount of root's is refused).
     */
    private static final Map<String, String> SUDO = Map.of("SUDO_UID", "4242", "SUDO_GID", "4242");
    /** What the README's init line answers when asked. */
    private static final Map<String, String> ANSWERS = Map.of("init", "y\n");

    @TempDir
    Path dir;

    @BeforeEach
    void requireHost() throws Exception {
        CageHarness.requireRootAndRootfs();
        assertEquals(List.of(), CageHarness.leftovers(), "the host holds cage leftovers before the test");
    }

    @Test
    void theReadmesCommandsThatNeedNoKeyWork() throws Exception {
        List<ReadmeCommands.Command> commands = ReadmeCommands.extract(Files.readString(README));
        Path configHome = Files.createDirectories(dir.resolve("config"));
        List<String> failures = new ArrayList<>();
        int run = 0;
        int folder = 0;
        for (ReadmeCommands.Command command : commands) {
            List<String> arguments = command.cageArguments();
            if (arguments == null) {
                continue;
            }
            String notRun = reasonNotRun(command, arguments);
            if (notRun != null) {
                System.out.println("not run (" + notRun + "): " + command.line());
                continue;
            }
            // Each in a folder of its own: init's section for one folder does not change the others' policy.
            Path workingDir = Files.createDirectories(dir.resolve("folder-" + folder++));
            String answer = ANSWERS.getOrDefault(arguments.isEmpty() ? "" : arguments.get(0), "");
            Map<String, String> env = new HashMap<>(Map.of("XDG_CONFIG_HOME", configHome.toString()));
            if (command.line().startsWith("sudo ")) {
                env.putAll(SUDO);
            }
            CageHarness.Result result = CageHarness.launchIn(workingDir, arguments, answer, env, Duration.ofMinutes(10));
            run++;
            System.out.println("ran: " + command.line() + " -> exit " + result.exitCode());
            String problem = ReadmeCommands.problem(command, result.exitCode(), result.stdout(), result.stderr());
            if (problem != null) {
                failures.add(command.line() + ": " + problem + "\n" + result);
            }
        }
        assertEquals(List.of(), failures);
        assertFalse(run < 5, "the README has fewer than 5 commands this test runs: " + run);
        assertEquals(List.of(), CageHarness.leftovers(), "the README's commands left something behind");
    }

    /** Why a command is not run here, or null when it is. */
    private static String reasonNotRun(ReadmeCommands.Command command, List<String> arguments) {
        if (command.line().contains("ANTHROPIC_API_KEY") || arguments.contains("claude")) {
            return "uses the API key or a Claude login";
        }
        if (!arguments.isEmpty() && ON_A_KEYED_SESSION.contains(arguments.get(0))) {
            return "acts on a session that a command needing the key starts";
        }
        if (arguments.contains("--allow-unlimited") || arguments.contains("unshare") || arguments.contains("import")
                || arguments.contains("save") || command.line().contains("~/")) {
            return "rootless, as a user with subordinate ids: RootlessIT runs these";
        }
        return null;
    }
}
