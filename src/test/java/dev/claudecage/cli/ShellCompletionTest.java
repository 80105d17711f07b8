package dev.claudecage.cli;

import dev.claudecage.process.CommandResult;
import dev.claudecage.process.ProcessRunner;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The completion scripts, each run by its own shell: the aliases and flags are what a Tab offers. */
class ShellCompletionTest {

    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private final ProcessRunner runner = new ProcessRunner(false);

    private Path script(ShellCompletion.Shell shell, String name) throws IOException {
        return Files.writeString(Files.createDirectories(dir.resolve(shell.name())).resolve(name),
                ShellCompletion.script(shell, Main.commandLine(Context.forThisHost())));
    }

    private static void requireShell(String shell) {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin", shell)) || Files.isExecutable(Path.of("/bin", shell)),
                shell + " is not installed (scripts/install-deps.sh --tests installs it)");
    }

    @Test
    void bashOffersTheAliasesAndTheShortFlags() throws Exception {
        Path script = script(ShellCompletion.Shell.bash, "claude-cage");
        assertFalse(Files.readString(script).startsWith("#!"), "a sourced completion script has no #! line");
        CommandResult result = runner.run(List.of("bash", "-c", "source \"$0\"; complete() { "
                + "COMP_WORDS=(claude-cage \"$@\"); COMP_CWORD=$#; _complete_claude-cage; printf '%s\\n' \"${COMPREPLY[@]}\"; }; "
                + "complete ex; complete i; complete run --work; complete run -", script.toString()), WAIT);
        List<String> offered = result.stdout().lines().toList();
        assertTrue(offered.containsAll(List.of("exec", "inspect", "images", "image", "--workdir", "-v", "-e", "-w", "-d",
                "--env-file")), offered.toString());
    }

    @Test
    void zshCompletesThroughItsCompletionFolder() throws Exception {
        requireShell("zsh");
        Path folder = script(ShellCompletion.Shell.zsh, "_claude-cage").getParent();
        Files.writeString(dir.resolve(".zshrc"), "PROMPT='> '\nfpath=(" + folder + " $fpath)\n"
                + "autoload -U compinit && compinit -u -D\n");
        // A real interactive zsh on a pseudo-terminal (script(1)): the first Tab autoloads the file.
        // ZDOTDIR: zsh reads this test's .zshrc instead of the user's.
        ProcessBuilder terminal = new ProcessBuilder("script", "--quiet", "--flush", "--command", "zsh -i", "/dev/null")
                .redirectErrorStream(true).directory(dir.toFile());
        terminal.environment().put("ZDOTDIR", dir.toString());
        Process zsh = terminal.start();
        StringBuilder screen = new StringBuilder();
        Thread reader = readInto(zsh.getInputStream(), screen);
        try {
            type(zsh, "claude-cage ex\t");
            awaitScreen(screen, "claude-cage exec");
            type(zsh, "\u0003");
            type(zsh, "claude-cage run --workd\t");
            awaitScreen(screen, "claude-cage run --workdir");
            type(zsh, "\u0003");
            type(zsh, "exit\r");
            assertTrue(zsh.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS));
            reader.join(WAIT.toMillis());
            assertFalse(screen.toString().contains("not found"), screen.toString());
        } finally {
            zsh.destroyForcibly();
        }
    }

    private static Thread readInto(InputStream in, StringBuilder screen) {
        Thread reader = new Thread(() -> {
            byte[] buffer = new byte[4096];
            try (in) {
                for (int read; (read = in.read(buffer)) >= 0; ) {
                    synchronized (screen) {
                        screen.append(new String(buffer, 0, read, StandardCharsets.UTF_8));
                    }
                }
            } catch (IOException e) {
                // The terminal closed.
            }
        }, "zsh-screen");
        reader.setDaemon(true);
        reader.start();
        return reader;
    }

    private static void type(Process process, String keys) throws IOException, InterruptedException {
        Thread.sleep(300);
        OutputStream out = process.getOutputStream();
        out.write(keys.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static void awaitScreen(StringBuilder screen, String text) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            synchronized (screen) {
                if (screen.toString().contains(text)) {
                    return;
                }
            }
            Thread.sleep(50);
        }
        synchronized (screen) {
            throw new AssertionError("the terminal never showed '" + text + "':\n" + screen);
        }
    }

    @Test
    void fishOffersSubcommandsAndEachCommandsOwnFlags() throws Exception {
        requireShell("fish");
        Path script = script(ShellCompletion.Shell.fish, "claude-cage.fish");
        CommandResult result = runner.run(List.of("fish", "--no-config", "-c", "source $argv[1]; "
                + "for line in 'claude-cage ex' 'claude-cage run --work' 'claude-cage image s' 'claude-cage rm -' "
                + "'claude-cage image save cli -'; echo \"== $line\"; complete -C $line; end", script.toString()), WAIT);
        String output = result.stdout();
        assertTrue(output.contains("== claude-cage ex\nexec\t"), output);
        assertTrue(output.contains("== claude-cage run --work\n--workdir\t"), output);
        assertTrue(output.contains("== claude-cage image s\nsave\t"), output);
        String rm = section(output, "claude-cage rm -");
        assertTrue(rm.contains("--timeout\t") && !rm.contains("--output"), "rm's flags, not image rm's or save's: " + rm);
        assertTrue(section(output, "claude-cage image save cli -").contains("--output\t"), output);
    }

    private static String section(String output, String line) {
        String start = "== " + line + "\n";
        String rest = output.substring(output.indexOf(start) + start.length());
        int next = rest.indexOf("== ");
        return next < 0 ? rest : rest.substring(0, next);
    }

    @Test
    void theCompletionCommandPrintsEachShellsScript() {
        java.io.StringWriter out = new java.io.StringWriter();
        int code = Main.commandLine(Context.forThisHost(), "completion").setOut(new java.io.PrintWriter(out)).execute("completion", "fish");
        assertEquals(0, code);
        assertTrue(out.toString().startsWith("# claude-cage completion for fish"), out.toString());
        assertTrue(out.toString().contains("-a 'inspect'"), "the whole model, not the one-subcommand one");
    }
}
