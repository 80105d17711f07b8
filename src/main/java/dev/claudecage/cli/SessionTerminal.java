package dev.claudecage.cli;

import dev.claudecage.CageException;
import dev.claudecage.session.AttachClient;
import dev.claudecage.session.SessionName;
import dev.claudecage.session.SessionView;
import dev.claudecage.session.Sessions;
import dev.claudecage.terminal.TerminalFilter;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/** What start and attach share: joining this terminal to a session, and the exit code that follows. */
final class SessionTerminal {

    private SessionTerminal() {
    }

    /** This terminal's rows and columns, or null when stdout is not a terminal. */
    static int[] size() {
        return AttachClient.terminalSize();
    }

    /**
     * Joins this terminal to the session until it ends or the user detaches. The cage's output comes
     * through a {@link TerminalFilter} unless {@code raw}; after the attach, the terminal modes the
     * cage left set are put back and a line says what was dropped.
     */
    static int attach(Sessions sessions, SessionName name, boolean raw) {
        SessionView view = sessions.view(name);
        if (!view.live()) {
            throw new CageException("session " + name + " is " + view.stateWord() + ", not running",
                    "start it again with: claude-cage start --name " + name);
        }
        OutputStream screen = new FileOutputStream(FileDescriptor.out);
        TerminalFilter filter = raw ? null : new TerminalFilter(screen);
        AttachClient client = new AttachClient(sessions.store().paths(view.record()).socket(),
                new FileInputStream(FileDescriptor.in), filter == null ? screen : filter, System.err);
        AttachClient.Outcome outcome = client.attach(name);
        if (filter != null) {
            restore(filter);
        }
        client.report(name, outcome);
        if (filter != null) {
            filter.dropped().message().ifPresent(System.err::println);
        }
        if (outcome instanceof AttachClient.Ended ended) {
            return ended.exitCode() < 0 ? 1 : ended.exitCode();
        }
        return outcome instanceof AttachClient.Detached ? 0 : 1;
    }

    private static void restore(TerminalFilter filter) {
        try {
            filter.restore();
        } catch (IOException e) {
            // The terminal has gone.
        }
    }
}
