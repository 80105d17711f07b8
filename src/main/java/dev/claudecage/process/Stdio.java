package dev.claudecage.process;

import java.lang.ProcessBuilder.Redirect;

/** Where a started command's stdin, stdout and stderr go. */
public record Stdio(Redirect input, Redirect output, Redirect error) {

    /** All three on one place: this process's own (INHERIT), a terminal, pipes. */
    public static Stdio all(Redirect redirect) {
        return new Stdio(redirect, redirect, redirect);
    }
}
