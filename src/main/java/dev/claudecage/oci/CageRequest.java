package dev.claudecage.oci;

import java.util.List;

/**
 * What a single cage needs beyond the configuration: the command, whether it gets a terminal,
 * its identity, and the host-dependent parts of the policy (resolved before the pure builder runs).
 *
 * @param apparmorProfile the profile to confine the cage with, or null where the host has no AppArmor
 * @param network         how the cage joins the network (prepared by the net package for filtered)
 */
public record CageRequest(List<String> command, boolean terminal, String containerId, String hostname,
                          Spec.Seccomp seccomp, String apparmorProfile, NetworkAttachment network) {

    public CageRequest {
        command = List.copyOf(command);
        if (command.isEmpty()) {
            throw new IllegalArgumentException("a cage needs a command to run");
        }
    }
}
