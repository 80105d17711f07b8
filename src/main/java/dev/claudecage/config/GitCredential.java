package dev.claudecage.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Where the git gateway gets the token it adds for one host: the standard output of a command
 * run on the host (such as {@code gh auth token}), or the contents of a host file. Written in
 * the configuration as {@code [USER@]HOST=command:WORDS...} or {@code [USER@]HOST=file:PATH}.
 *
 * @param host    the exact host name the token is for; no other host ever gets it
 * @param user    the user name sent with the token in HTTP Basic authentication
 * @param command the command's words (run without a shell), or empty when the token is in a file
 * @param file    the file holding the token, or null when a command prints it
 */
public record GitCredential(String host, String user, List<String> command, Path file) {

    /** What GitHub, GitLab and Gitea all accept as the user name beside a token. */
    public static final String DEFAULT_USER = "x-access-token";

    public GitCredential {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(user, "user");
        command = List.copyOf(command);
        if (command.isEmpty() == (file == null)) {
            throw new IllegalArgumentException("a git credential comes from a command or from a file, exactly one");
        }
    }

    /** As written in the configuration. */
    public String format() {
        String who = user.equals(DEFAULT_USER) ? "" : user + "@";
        return who + host + "=" + (file == null ? "command:" + String.join(" ", command) : "file:" + file);
    }

    /** For audit lines: where the token came from, never the token. */
    public String sourceDescription() {
        return file == null ? "command " + command.get(0) : "file " + file;
    }
}
