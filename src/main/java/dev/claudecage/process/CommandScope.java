package dev.claudecage.process;

import java.util.List;

/**
 * Where a command that needs privilege over a cage runs: in this process's own context (root
 * mode), or as root of the cage's user namespace (rootless; see
 * {@link dev.claudecage.rootless.UserNamespace}).
 */
@FunctionalInterface
public interface CommandScope {

    /** Commands run as they are. */
    CommandScope HOST = command -> command;

    /** The command line that runs {@code command} in this scope. */
    List<String> wrap(List<String> command);
}
