package dev.claudecage.session;

import dev.claudecage.UserInputException;

import java.util.List;
import java.util.stream.Collectors;

/** A command named a session that does not exist: bad input, exit code 2. */
public final class SessionNotFoundException extends UserInputException {

    private static final long serialVersionUID = 1L;

    public SessionNotFoundException(SessionName name, List<SessionName> existing) {
        super("no session named '" + name + "'", existing.isEmpty()
                ? "there are no sessions; start one with: claude-cage start"
                : "sessions: " + existing.stream().map(SessionName::value).collect(Collectors.joining(", "))
                        + " (claude-cage list)");
    }
}
