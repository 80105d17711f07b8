package dev.claudecage.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "attach",
        description = {
                "Joins this terminal to a running session: what you type goes to the cage, what it writes comes here "
                        + "(starting with its recent output). Ctrl-P Ctrl-Q detaches and leaves it running.",
                "What the cage writes reaches this terminal without the control sequences that act on a terminal rather than draw on it (clipboard, title, report requests, hyperlinks, ...); a line on stderr says how many were dropped, and the modes the cage left set (alternate screen, mouse reports, ...) are put back at the end.",
                "Exit code: the cage's own when it ends while attached; 0 when detached."})
final class AttachCommand extends BaseCommand {

    @Mixin
    SessionArgument session;

    @Mixin
    RawTerminalOption rawTerminal;

    @Override
    public Integer call() {
        return SessionTerminal.attach(context.sessions(), session.name(),
                rawTerminal.raw);
    }
}
