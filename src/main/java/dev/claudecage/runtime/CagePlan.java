package dev.claudecage.runtime;

import dev.claudecage.CageException;
import dev.claudecage.config.CageConfig;
import dev.claudecage.host.Host;
import dev.claudecage.image.store.ImageConfig;
import dev.claudecage.image.store.ImageStore;
import dev.claudecage.image.store.StoredImage;
import dev.claudecage.oci.CageRequest;
import dev.claudecage.oci.NetworkAttachment;
import dev.claudecage.oci.Spec;
import dev.claudecage.oci.SpecBuilder;
import dev.claudecage.oci.WorkspaceWall;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.rootless.RootlessHost;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;

/**
 * Everything decided before a cage starts: the configuration, the root file system, the runtime
 * and the host-dependent policy. {@code run} and {@code verify} build their cages from the same
 * plan, so verify checks exactly the walls that run puts up.
 *
 * @param rootfs the root's overlay lower layers, top first: the image's layers from the store,
 *               or the one {@code --rootfs} directory
 * @param image    what the image asks of the process (its ENV and WORKDIR); none for {@code --rootfs}
 * @param imageId  the stored image's id, or null for {@code --rootfs}
 * @param rootless this user's id maps and cgroup delegation for a rootless cage; null as root
 */
public record CagePlan(CageConfig config, List<Path> rootfs, CageRequest.ImageDefaults image, OciRuntime runtime,
                       HostPolicy policy, String imageId, RootlessHost rootless) {

    public static final String HOSTNAME = "claude-cage";
    /** Where {@code make rootfs} puts the minbase Debian rootfs. */
    public static final String DEFAULT_ROOTFS = "/var/cache/claude-cage/rootfs/bookworm-minbase";
    /** The images {@code claude-cage build} makes from the shipped Dockerfiles. */
    private static final List<String> SHIPPED_IMAGES = List.of("cli", "desktop");

    /**
     * What a session keeps of its plan when it starts, beside its configuration in its record: read
     * back by its supervisor and by {@code verify --session}, so that both work with the image,
     * layers, runtime, policy and id maps the session was started with, whatever has changed on the
     * host since (a tag moved to another image, a seccomp profile edited).
     */
    public record Recorded(List<Path> rootfs, CageRequest.ImageDefaults image, RuntimeKind runtime, Path runtimeBinary,
                           Path runtimeState, String runtimePlatform, HostPolicy policy, String imageId,
                           RootlessHost rootless) {
        public Recorded {
            rootfs = List.copyOf(rootfs);
        }
    }

    public Recorded recorded() {
        return new Recorded(rootfs, image, runtime.kind(), runtime.binary(), runtime.stateRoot(), runtime.platform(), policy,
                imageId, rootless);
    }

    /** The plan a session recorded, for {@code config}, the configuration in its record. */
    public static CagePlan of(CageConfig config, Recorded recorded, ProcessRunner runner) {
        return new CagePlan(config, recorded.rootfs(), recorded.image(), new OciRuntime(recorded.runtime(),
                recorded.runtimeBinary(), recorded.runtimeState(), recorded.runtimePlatform(), runner), recorded.policy(), recorded.imageId(),
                recorded.rootless());
    }

    /** Resolves everything for {@code config} on this host now: the runtime, the image in {@code images}, the policy. */
    public static CagePlan resolve(CageConfig config, StatePaths paths, ImageStore images, ProcessRunner runner) {
        OciRuntime runtime = OciRuntime.locate(RuntimeKind.fromConfig(config.runtime()), config.runscPlatform(),
                paths.runtimeState(), runner);
        String unsupported = runtime.kind() == RuntimeKind.RUNSC ? Runsc.unsupportedNetwork(config.network()) : null;
        if (unsupported != null) {
            throw new CageException(unsupported, "use --network none under runsc, or --runtime runc for this network");
        }
        RootlessHost rootless = Host.effectiveUid() == 0 ? null : RootlessHost.detect(config);
        if (rootless != null) {
            rootless.requireLimits(config);
        }
        if (config.rootfs() != null) {
            return new CagePlan(config, List.of(config.rootfs()), CageRequest.ImageDefaults.NONE, runtime,
                    HostPolicy.resolve(config), null, rootless);
        }
        StoredImage image = images.find(config.image()).orElseThrow(() -> new CageException(
                "the image '" + config.image() + "' is not built" + (rootless == null ? "" : " in your own image store"),
                rootless != null ? "build it (claude-cage build --allow-unlimited " + (SHIPPED_IMAGES.contains(config.image())
                        ? config.image() : "-t " + config.image() + " CONTEXT") + "), import root's (sudo claude-cage image save "
                        + config.image() + " -o DIR, then claude-cage image import DIR), or run a root file system with --rootfs"
                        : "build it with: sudo claude-cage build " + (SHIPPED_IMAGES.contains(config.image()) ? config.image()
                        : "cli (or build yours: claude-cage build -t " + config.image() + " CONTEXT)")));
        ImageConfig.Settings settings = image.config().config();
        return new CagePlan(config, image.lowerDirectoriesTopFirst(),
                new CageRequest.ImageDefaults(settings.env(), settings.workingDir(), List.copyOf(settings.volumes().keySet()),
                        settings.stopSignal()), runtime, HostPolicy.resolve(config),
                image.id().toString(), rootless);
    }

    public Spec spec(String containerId, List<String> command, boolean terminal, NetworkAttachment network,
                     WorkspaceWall wall) {
        return SpecBuilder.build(config, new CageRequest(command, terminal, containerId, HOSTNAME,
                policy.seccomp(), policy.apparmorProfile(), network, image, wall));
    }

    /** The same plan for another configuration (verify adds its fixture mounts). */
    public CagePlan withConfig(CageConfig newConfig) {
        return new CagePlan(newConfig, rootfs, image, runtime, policy, imageId, rootless);
    }

    /** The topmost layer that holds {@code relativePath}: where the cage's copy of that file comes from. */
    public Path layerHolding(String relativePath) {
        return rootfs.stream().filter(layer -> Files.exists(layer.resolve(relativePath), LinkOption.NOFOLLOW_LINKS))
                .findFirst()
                .orElseThrow(() -> new CageException("the cage's root has no " + relativePath));
    }
}
