package dev.claudecage.workspace;

import dev.claudecage.CageException;
import dev.claudecage.host.Host;
import dev.claudecage.process.CommandResult;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.process.Stdio;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * git on the host, as the host user who owns the work (never as root, so that what it writes in
 * their repository is theirs; rootless, the user is that owner already), from a given folder, with no system or global configuration: what
 * git does here depends only on the repositories it is pointed at. The folder is entered as root
 * before the user is taken on, so that it may lie below folders only root can search (the
 * session's data folder).
 */
record HostGit(ProcessRunner runner, int uid, int gid, Path directory) {

    private static final Duration TIMEOUT = Duration.ofMinutes(10);

    HostGit in(Path otherDirectory) {
        return new HostGit(runner, uid, gid, otherDirectory);
    }

    CommandResult run(String... args) {
        return runner.run(command(Map.of(), List.of(args)), TIMEOUT);
    }

    CommandResult runAllowingFailure(String... args) {
        return runner.runAllowingFailure(command(Map.of(), List.of(args)), TIMEOUT);
    }

    CommandResult runWith(Map<String, String> env, String... args) {
        return runner.run(command(env, List.of(args)), TIMEOUT);
    }

    /**
     * git with its stdin read from {@code input} and its stdout written to {@code output}, for
     * streams too long to hold in memory (a checkpoint's files); a failure says what git printed
     * on stderr.
     */
    void runStreaming(Path input, Path output, String... args) {
        List<String> command = command(Map.of(), List.of(args));
        Path errors = output.resolveSibling(output.getFileName() + ".err");
        Process process = runner.startAttached(command, new Stdio(ProcessBuilder.Redirect.from(input.toFile()),
                ProcessBuilder.Redirect.to(output.toFile()), ProcessBuilder.Redirect.to(errors.toFile())));
        int exitCode = runner.awaitExit(process, command, TIMEOUT);
        try {
            String stderr = Files.readString(errors);
            if (exitCode != 0) {
                throw runner.failure(new CommandResult(command, exitCode, "", stderr));
            }
        } catch (IOException e) {
            throw new CageException("cannot read what git printed in " + errors + ": " + e.getMessage());
        } finally {
            try {
                Files.deleteIfExists(errors);
            } catch (IOException e) {
                System.err.println("claude-cage: could not remove " + errors + ": " + e.getMessage());
            }
        }
    }

    /** The first line of what git printed, for commands that print one value. */
    String value(String... args) {
        return run(args).stdout().strip();
    }

    private List<String> command(Map<String, String> env, List<String> args) {
        List<String> command = new ArrayList<>(List.of("env", "-C", directory.toString()));
        // Already that user (rootless, where the work is the user's own): nothing to change, and
        // setpriv could not clear the groups without root.
        if (uid != Host.effectiveUid()) {
            command.addAll(List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups"));
        }
        command.addAll(List.of("env", "-i", "PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/nonexistent", "LC_ALL=C",
                "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0"));
        env.forEach((key, value) -> command.add(key + "=" + value));
        command.add("git");
        command.addAll(args);
        return command;
    }
}
