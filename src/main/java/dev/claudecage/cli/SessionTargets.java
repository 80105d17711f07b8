package dev.claudecage.cli;

import dev.claudecage.UserInputException;
import dev.claudecage.session.SessionName;
import dev.claudecage.session.Sessions;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Duration;
import java.util.List;

/** The sessions a stopping command acts on, and how long each gets between SIGTERM and SIGKILL. */
final class SessionTargets {

    @Parameters(arity = "1..*", paramLabel = "NAME", description = "The sessions.")
    List<String> names;

    @Option(names = {"--timeout", "-t"}, paramLabel = "SECONDS", defaultValue = "10",
            description = "For a running session: seconds between SIGTERM and SIGKILL. Default: ${DEFAULT-VALUE}.")
    int timeout;

    Duration grace() {
        if (timeout < 0) {
            throw new UserInputException("--timeout: " + timeout + " is negative; give seconds, 0 or more");
        }
        return Duration.ofSeconds(timeout);
    }

    /** Every name, checked to exist before any is touched: a typo stops nothing. */
    List<SessionName> resolve(Sessions sessions) {
        List<SessionName> sessionNames = names.stream().map(SessionName::of).toList();
        sessionNames.forEach(sessions.store()::require);
        return sessionNames;
    }
}
