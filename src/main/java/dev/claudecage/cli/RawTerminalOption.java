package dev.claudecage.cli;

import picocli.CommandLine.Option;

/** {@code --raw-terminal}, for the commands that show what the cage writes to its terminal. */
final class RawTerminalOption {

    /** For run and shell, whose cage runs in this process's foreground. */
    static final String FOREGROUND_HELP = "Where this process's stdin, stdout or stderr is a terminal, the cage gets a "
            + "pipe instead, never the terminal itself; what it writes there reaches the terminal without the control "
            + "sequences that act on it (clipboard, title, report requests, hyperlinks, ...), and a line on stderr "
            + "says how many were dropped. A pipe or a file gets the bytes as written.";

    @Option(names = "--raw-terminal",
            description = "Show the cage's terminal output as it is, control sequences included. By default the "
                    + "sequences that act on your terminal rather than draw on it are dropped (clipboard, window "
                    + "title, requests for reports that the terminal would type in as if you had, hyperlinks, file "
                    + "transfers, 8-bit controls) and one line on stderr says how many. With this option the program "
                    + "in the cage can set and read your clipboard, and make your terminal type text into whatever "
                    + "reads it next: your shell, after logs.")
    boolean raw;
}
