package dev.claudecage.process;

import java.util.List;

/** What a finished external command left: its exit code and everything it printed. */
public record CommandResult(List<String> command, int exitCode, String stdout, String stderr) {

    /**
     * What ip, nft, umount, runc and crun print when what a command was to remove does not exist
     * (any more): a namespace, link, table, mount or container that is gone already. "No such
     * device": the kernel destroyed a veth's host end with its namespace, asynchronously, between
     * ip's lookup of the link and its delete request.
     */
    private static final List<String> GONE = List.of("does not exist", "not found", "No such file", "No such device",
            "Cannot find device", "not mounted");

    public CommandResult {
        command = List.copyOf(command);
    }

    public boolean succeeded() {
        return exitCode == 0;
    }

    /** Whether a command that removes something succeeded, or failed only because that was gone already. */
    public boolean succeededOrGone() {
        return succeeded() || GONE.stream().anyMatch(stderr::contains);
    }
}
