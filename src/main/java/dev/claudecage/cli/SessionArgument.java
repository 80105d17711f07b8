package dev.claudecage.cli;

import dev.claudecage.session.SessionName;
import picocli.CommandLine.Parameters;

/** {@code NAME}, the first argument of the commands that act on one session. */
final class SessionArgument {

    @Parameters(index = "0", paramLabel = "NAME", description = "The session.")
    private String name;

    /** The session named, its name checked. */
    SessionName name() {
        return SessionName.of(name);
    }
}
