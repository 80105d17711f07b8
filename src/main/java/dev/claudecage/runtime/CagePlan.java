package dev.claudecage.runtime;

import dev.claudecage.CageException;
import dev.claudecage.config.CageConfig;
import dev.claudecage.host.Host;
import dev.claudecage.host.IdBlock;
import dev.claudecage.host.LinuxSyscalls;
import dev.claudecage.identity.IdPool;
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
 * @param ids      where a root-mode cage takes its own host ids from ({@code userns_pool}); a pool without
 *                 blocks says why the cage shares the host's ids, which it then warns about; null where
 *                 that is by design: rootless (the cage has the user's own namespace) and verify's controls
 */
public record CagePlan(CageConfig config, List<Path> rootfs, CageRequest.ImageDefaults image, OciRuntime runtime,
                       HostPolicy policy, String imageId, RootlessHost rootless, IdPool ids) {

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
        // Not recorded: every start of the session takes a block of its own, from the pool as it is then.
        IdPool ids = ownIds(config, recorded.rootless());
        return new CagePlan(config, recorded.rootfs(), recorded.image(), new OciRuntime(recorded.runtime(),
                recorded.runtimeBinary(), recorded.runtimeState(), recorded.runtimePlatform(), runner), recorded.policy(),
                recorded.imageId(), recorded.rootless(), ids);
    }

    /** Resolves everything for {@code config} on this host now: the runtime, the image in {@code images}, the policy. */
    public static CagePlan resolve(CageConfig config, StatePaths paths, ImageStore images, ProcessRunner runner) {
        RootlessHost rootless = Host.effectiveUid() == 0 ? null : RootlessHost.detect(config);
        if (rootless != null) {
            rootless.requireLimits(config);
        }
        IdPool ids = ownIds(config, rootless);
        OciRuntime runtime = OciRuntime.locate(RuntimeKind.fromConfig(config.runtime()), config.runscPlatform(),
                paths.runtimeState(), runner);
        String unsupported = runtime.kind() == RuntimeKind.RUNSC
                ? Runsc.unsupportedNetwork(config.network(), config.egress().hasExternalGateway()) : null;
        if (unsupported != null) {
            throw new CageException(unsupported, "use --network filtered or none under runsc, or --runtime runc for "
                    + "this network");
        }
        if (config.rootfs() != null) {
            return new CagePlan(config, List.of(config.rootfs()), CageRequest.ImageDefaults.NONE, runtime,
                    HostPolicy.resolve(config), null, rootless, ids);
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
                image.id().toString(), rootless, ids);
    }

    /**
     * Where a root-mode cage takes its own host ids from; null for a rootless one. Where the pool has
     * blocks, the cage's layers are idmapped through the C library before it starts, so the binding
     * starts loading now, on a thread of its own, beside the rest of the plan and the cage's
     * preparation: a cage that shares the host's ids loads it only while it runs, and loading it
     * before the layers could be idmapped cost a one-shot run about 20 ms.
     * <p>
     * Under runsc as under runc. There the cage's ids are those of gVisor's file server (the gofer),
     * which makes the cage's files on the host from inside the cage's user namespace (runsc makes it
     * from the spec's maps), as the cage's root; the sentry runs as host nobody in a user namespace of
     * its own. The gofer opens every bind source from that namespace, so each is staged in the cage's
     * staging folder, the one folder that lets the cage's root pass, and nothing beside the cage's
     * mounts is opened to its ids ({@link CageIdentity#stageForTheFileServer}). A filtered runsc cage's
     * network namespace is not the held one of its ids but the host user namespace's: runsc 20221219
     * cannot join a user namespace by its path ({@link CageInstance}).
     */
    private static IdPool ownIds(CageConfig config, RootlessHost rootless) {
        if (rootless != null) {
            return null;
        }
        IdPool ids = IdPool.resolve(config.usernsPool());
        if (ids.available()) {
            LinuxSyscalls.loadInBackground();
        }
        return ids;
    }

    /** @param ids the cage's own host ids, or null where it shares the host's */
    public Spec spec(String containerId, List<String> command, boolean terminal, NetworkAttachment network,
                     WorkspaceWall wall, IdBlock ids) {
        return SpecBuilder.build(config, new CageRequest(command, terminal, containerId, HOSTNAME,
                policy.seccomp(), policy.apparmorProfile(), network, image, wall, ids));
    }

    /** The same plan for another configuration (verify adds its fixture mounts). */
    public CagePlan withConfig(CageConfig newConfig) {
        return new CagePlan(newConfig, rootfs, image, runtime, policy, imageId, rootless, ids);
    }

    /** The same plan with the cages sharing the host's ids, as they did before each got its own (verify's control). */
    public CagePlan withHostIds() {
        return new CagePlan(config, rootfs, image, runtime, policy, imageId, rootless, null);
    }

    /** The topmost layer that holds {@code relativePath}: where the cage's copy of that file comes from. */
    public Path layerHolding(String relativePath) {
        return rootfs.stream().filter(layer -> Files.exists(layer.resolve(relativePath), LinkOption.NOFOLLOW_LINKS))
                .findFirst()
                .orElseThrow(() -> new CageException("the cage's root has no " + relativePath));
    }
}
