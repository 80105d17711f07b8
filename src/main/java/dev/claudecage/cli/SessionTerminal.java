package dev.claudecage.cli;

import dev.claudecage.CageException;
import dev.claudecage.session.AttachClient;
import dev.claudecage.session.SessionName;
import dev.claudecage.session.SessionView;
import dev.claudecage.session.Sessions;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;

/** What start and attach share: joining this terminal to a session, and the exit code that follows. */
final class SessionTerminal {

    private SessionTerminal() {
    }

    /** This terminal's rows and columns, or null when stdout is not a terminal. */
    static int[] size() {
        return AttachClient.terminalSize();
    }

    static int attach(Sessions sessions, SessionName name) {
        SessionView view = sessions.view(name);
        if (!view.live()) {
            throw new CageException("session " + name + " is " + view.stateWord() + ", not running",
                    "start it again with: claude-cage start --name " + name);
        }
        AttachClient client = new AttachClient(sessions.store().paths(view.record()).socket(),
                new FileInputStream(FileDescriptor.in), new FileOutputStream(FileDescriptor.out), System.err);
        AttachClient.Outcome outcome = client.attach(name);
        client.report(name, outcome);
        if (outcome instanceof AttachClient.Ended ended) {
            return ended.exitCode() < 0 ? 1 : ended.exitCode();
        }
        return outcome instanceof AttachClient.Detached ? 0 : 1;
    }
}
