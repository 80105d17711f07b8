package dev.claudecage.cli;

import dev.claudecage.session.SessionName;
import picocli.CommandLine.Option;

import java.util.Optional;

/** {@code --name}, the name of the session that start (or run --detach) starts. */
final class SessionNameOption {

    @Option(names = "--name", paramLabel = "NAME",
            description = "The session's name: lowercase letters, digits and dashes. Default: a generated one, "
                    + "like brisk-otter.")
    String name;

    /** The name given, checked, or empty for a generated one. */
    Optional<SessionName> given() {
        return Optional.ofNullable(name).map(SessionName::of);
    }
}
