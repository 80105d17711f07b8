package dev.claudecage.oci;

import dev.claudecage.host.IdBlock;

import java.util.List;

/**
 * What a single cage needs beyond the configuration: the command, whether it gets a terminal,
 * its identity, and the host-dependent parts of the policy (resolved before the pure builder runs).
 *
 * @param apparmorProfile the profile to confine the cage with, or null where the host has no AppArmor
 * @param network         how the cage joins the network (prepared by the net package for filtered)
 * @param image           what the image asks of the process: its ENV and WORKDIR
 * @param wall            the guards of the protected paths in the writable workspace mounts
 * @param ids             the cage's own host ids, which its user namespace maps its ids onto; null when it
 *                        shares the host's ids (rootless cages get their namespace from {@code rootless})
 */
public record CageRequest(List<String> command, boolean terminal, String containerId, String hostname,
                          Spec.Seccomp seccomp, String apparmorProfile, NetworkAttachment network, ImageDefaults image,
                          WorkspaceWall wall, IdBlock ids) {

    public CageRequest {
        command = List.copyOf(command);
        if (command.isEmpty()) {
            throw new IllegalArgumentException("a cage needs a command to run");
        }
    }

    /** A cage that shares the host's ids. */
    public CageRequest(List<String> command, boolean terminal, String containerId, String hostname,
                       Spec.Seccomp seccomp, String apparmorProfile, NetworkAttachment network, ImageDefaults image,
                       WorkspaceWall wall) {
        this(command, terminal, containerId, hostname, seccomp, apparmorProfile, network, image, wall, null);
    }

    /** A cage on a plain rootfs directory, whose image asks for nothing. */
    public CageRequest(List<String> command, boolean terminal, String containerId, String hostname,
                       Spec.Seccomp seccomp, String apparmorProfile, NetworkAttachment network) {
        this(command, terminal, containerId, hostname, seccomp, apparmorProfile, network, ImageDefaults.NONE,
                WorkspaceWall.NONE, null);
    }

    /**
     * What the image's config asks of the cage, as Docker would honour it: its environment
     * (ENV), working directory (WORKDIR), volumes (VOLUME) and stop signal (STOPSIGNAL). The
     * image's USER is not among them: who the cage runs as is policy, the {@code user} key.
     *
     * @param workingDir the image's WORKDIR, or null
     * @param volumes    the image's VOLUME paths: each gets a tmpfs of its own unless a mount covers it
     * @param stopSignal the image's STOPSIGNAL as written, or null for SIGTERM
     */
    public record ImageDefaults(List<String> env, String workingDir, List<String> volumes, String stopSignal) {
        public static final ImageDefaults NONE = new ImageDefaults(List.of(), null, List.of(), null);

        public ImageDefaults {
            env = List.copyOf(env);
            volumes = List.copyOf(volumes);
        }
    }
}
