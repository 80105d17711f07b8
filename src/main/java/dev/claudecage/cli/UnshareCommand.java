package dev.claudecage.cli;

import dev.claudecage.CageException;
import dev.claudecage.config.CageConfig;
import dev.claudecage.host.Host;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.rootless.RootlessHost;
import dev.claudecage.rootless.UserNamespace;
import dev.claudecage.runtime.RunOutcome;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.List;
import java.util.Map;

@Command(name = "unshare",
        description = {"Rootless: runs a command as root of a user namespace mapped as your cages' are (you are the "
                + "cage's user, subordinate ids the rest), like 'podman unshare': to unpack a root file system for "
                + "--rootfs with the right owners, or to remove files your cages left that belong to subordinate ids.",
                "Exit code: the command's own; 125 when the namespace cannot be made."})
final class UnshareCommand extends BaseCommand implements ErrorHandler.FailureCode {

    @Parameters(arity = "1..*", paramLabel = "CMD", description = "The command and its arguments, after --.")
    List<String> command;

    @Override
    public Integer call() throws InterruptedException {
        if (Host.effectiveUid() == 0) {
            throw new CageException("'claude-cage unshare' is for rootless users: root's cages need no user namespace",
                    "run the command directly");
        }
        CageConfig config = context.configLoader().load(Map.of()).config();
        ProcessRunner runner = context.runner();
        RootlessHost rootless = RootlessHost.detect(config);
        try (UserNamespace namespace = UserNamespace.create(rootless.uids(), rootless.gids(), runner)) {
            return runner.startInteractive(namespace.wrap(command)).waitFor();
        }
    }

    @Override
    public int failureExitCode() {
        return RunOutcome.LAUNCHER_FAILED;
    }
}
