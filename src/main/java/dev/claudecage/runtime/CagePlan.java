package dev.claudecage.runtime;

import dev.claudecage.UserInputException;
import dev.claudecage.config.CageConfig;
import dev.claudecage.oci.CageRequest;
import dev.claudecage.oci.NetworkAttachment;
import dev.claudecage.oci.Spec;
import dev.claudecage.oci.SpecBuilder;
import dev.claudecage.process.ProcessRunner;

import java.nio.file.Path;
import java.util.List;

/**
 * Everything decided before a cage starts: the configuration, the rootfs, the runtime and the
 * host-dependent policy. {@code run} and {@code verify} build their cages from the same plan,
 * so verify checks exactly the walls that run puts up.
 */
public record CagePlan(CageConfig config, Path rootfs, OciRuntime runtime, HostPolicy policy) {

    public static final String HOSTNAME = "claude-cage";
    /** Where {@code make rootfs} puts the minbase Debian rootfs. */
    public static final String DEFAULT_ROOTFS = "/var/cache/claude-cage/rootfs/bookworm-minbase";

    public static CagePlan resolve(CageConfig config, StatePaths paths, ProcessRunner runner) {
        Path rootfs = requireRootfs(config);
        OciRuntime runtime = OciRuntime.locate(RuntimeKind.fromConfig(config.runtime()), paths.runtimeState(), runner);
        return new CagePlan(config, rootfs, runtime, HostPolicy.resolve(config));
    }

    public Spec spec(String containerId, List<String> command, boolean terminal, NetworkAttachment network) {
        return SpecBuilder.build(config, new CageRequest(command, terminal, containerId, HOSTNAME,
                policy.seccomp(), policy.apparmorProfile(), network));
    }

    static Path requireRootfs(CageConfig config) {
        if (config.rootfs() == null) {
            throw new UserInputException(
                    "no rootfs given: image '" + config.image() + "' cannot be used yet (the image builder is being built)",
                    "pass --rootfs DIR; 'sudo make rootfs' builds a minimal Debian one at " + DEFAULT_ROOTFS);
        }
        return config.rootfs();
    }
}
