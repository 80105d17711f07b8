package dev.claudecage.net.gateway;

import dev.claudecage.CageException;
import dev.claudecage.config.GitCredential;
import dev.claudecage.process.CommandResult;
import dev.claudecage.process.ProcessRunner;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Fetches a git token on the host, each time the git gateway needs one, so that a rotated token
 * is picked up and none is kept between requests: the command's output, or the file's contents,
 * stripped of surrounding white space. The token is checked to be something a header can carry;
 * no message ever quotes it.
 */
public final class GitTokens {

    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(20);
    private static final int MAX_TOKEN_CHARS = 4096;

    private final ProcessRunner runner;
    private final List<String> runAs;

    /** @param runAs words put before a token command, e.g. to run it as another user; empty for none */
    GitTokens(ProcessRunner runner, List<String> runAs) {
        this.runner = runner;
        this.runAs = List.copyOf(runAs);
    }

    /**
     * Token commands run as the user who ran {@code sudo claude-cage} (SUDO_UID and SUDO_GID, with
     * that user's groups and login environment), so that {@code gh auth token} reads that user's
     * login, not root's; without sudo, as the launcher's own user.
     */
    public static GitTokens forInvokingUser(ProcessRunner runner) {
        String uid = System.getenv("SUDO_UID");
        String gid = System.getenv("SUDO_GID");
        boolean sudo = uid != null && gid != null && uid.matches("[0-9]+") && gid.matches("[0-9]+") && !uid.equals("0");
        return new GitTokens(runner, sudo ? List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--init-groups",
                "--reset-env", "--") : List.of());
    }

    /**
     * A fresh array holding the token, which the caller wipes.
     *
     * @throws CageException when the source fails or gives no usable token; the message names the source only
     */
    public char[] token(GitCredential credential) {
        char[] token = credential.file() == null ? fromCommand(credential) : fromFile(credential);
        String problem = token.length == 0 ? "is empty" : token.length > MAX_TOKEN_CHARS ? "is too long" : null;
        for (char c : token) {
            if (problem == null && (c < 0x21 || c > 0x7e)) {
                problem = "holds a character other than printable ASCII";
            }
        }
        if (problem != null) {
            Arrays.fill(token, '\0');
            throw new CageException("the git token for " + credential.host() + " from " + credential.sourceDescription()
                    + " " + problem, "check git_credentials in your configuration");
        }
        return token;
    }

    private char[] fromCommand(GitCredential credential) {
        List<String> command = new ArrayList<>(runAs);
        command.addAll(credential.command());
        CommandResult result = runner.runAllowingFailure(command, COMMAND_TIMEOUT);
        if (!result.succeeded()) {
            // Its stderr may be about the token's store, never the token itself: gh and friends print that on stdout.
            throw new CageException("the git token command for " + credential.host() + " ("
                    + ProcessRunner.display(credential.command()) + ") failed with exit code " + result.exitCode(),
                    "run it yourself on the host to see why, e.g. gh auth login");
        }
        return result.stdout().strip().toCharArray();
    }

    private static char[] fromFile(GitCredential credential) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(credential.file());
        } catch (IOException e) {
            throw new CageException("cannot read the git token file " + credential.file() + " for " + credential.host()
                    + ": " + e.getMessage());
        }
        try {
            CharBuffer chars = StandardCharsets.UTF_8.decode(ByteBuffer.wrap(bytes));
            int start = chars.position();
            int end = chars.limit();
            while (start < end && Character.isWhitespace(chars.get(start))) {
                start++;
            }
            while (end > start && Character.isWhitespace(chars.get(end - 1))) {
                end--;
            }
            char[] token = new char[end - start];
            chars.position(start);
            chars.get(token);
            Arrays.fill(chars.array(), '\0');
            return token;
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
    }
}
