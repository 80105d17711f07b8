package dev.claudecage.bench;

import dev.claudecage.config.CageConfig;
import dev.claudecage.config.ConfigLoader;
import dev.claudecage.image.store.ImageStore;
import dev.claudecage.image.store.LinuxFiles;
import dev.claudecage.json.Json;
import dev.claudecage.oci.NetworkAttachment;
import dev.claudecage.oci.WorkspaceWall;
import dev.claudecage.oci.Spec;
import dev.claudecage.oci.SpecBuilder;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.runtime.Cage;
import dev.claudecage.runtime.CagePlan;
import dev.claudecage.runtime.StatePaths;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The raw runc baseline: a bundle with exactly the config.json that {@code claude-cage run
 * --network none -- true} generates (the same spec builder, configuration and host policy), on
 * the same kind of root (an overlay of the rootfs with a scratch upper layer, mounted once), run
 * with {@code runc run} under a state root of its own. What claude-cage adds on top of this is
 * the launcher's own cost.
 */
final class RuncBundle implements AutoCloseable {

    static final String CONTAINER_ID = "ccbench-raw-runc";

    private final Path directory;
    private final Path stateRoot;
    private final String runc;
    private boolean mounted;

    private RuncBundle(Path directory, Path stateRoot, String runc) {
        this.directory = directory;
        this.stateRoot = stateRoot;
        this.runc = runc;
    }

    static RuncBundle create(Path rootfs, Path directory) throws IOException, InterruptedException {
        Map<String, Object> flags = new LinkedHashMap<>();
        flags.put("rootfs", rootfs.toString());
        flags.put("network", "none");
        CageConfig config = ConfigLoader.forThisHost().load(flags).config();
        ProcessRunner runner = new ProcessRunner(false);
        CagePlan plan = CagePlan.resolve(config, StatePaths.current(), ImageStore.openDefault(), runner);
        // On the host's ids: a block of its own needs idmapped layers that only claude-cage prepares.
        Spec spec = plan.spec(CONTAINER_ID, List.of("true"), false, NetworkAttachment.none(), WorkspaceWall.NONE, null);

        Files.createDirectories(directory, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path bundle = directory.resolve("bundle");
        for (String sub : List.of("bundle/" + SpecBuilder.ROOTFS_DIR, "upper", "work", "state")) {
            Files.createDirectories(directory.resolve(sub));
        }
        RuncBundle result = new RuncBundle(directory, directory.resolve("state"),
                Trial.Commands.output(List.of("sh", "-c", "command -v runc")).strip());
        try {
            Trial.Commands.output(Cage.overlayMountCommand(List.of(rootfs), directory.resolve("upper"),
                    directory.resolve("work"), bundle.resolve(SpecBuilder.ROOTFS_DIR), LinuxFiles.OverlayAttributes.TRUSTED));
            result.mounted = true;
            Files.writeString(bundle.resolve("config.json"), Json.write(spec));
            return result;
        } catch (IOException | InterruptedException | RuntimeException e) {
            result.close();
            throw e;
        }
    }

    Path configJson() {
        return directory.resolve("bundle/config.json");
    }

    List<String> runCommand() {
        return List.of(runc, "--root", stateRoot.toString(), "run", "--bundle", directory.resolve("bundle").toString(),
                CONTAINER_ID);
    }

    @Override
    public void close() {
        Trial.Commands.outputOrNull(List.of(runc, "--root", stateRoot.toString(), "delete", "--force", CONTAINER_ID));
        if (mounted) {
            Trial.Commands.outputOrNull(List.of("umount", directory.resolve("bundle/" + SpecBuilder.ROOTFS_DIR).toString()));
        }
        Trial.Commands.outputOrNull(List.of("rm", "-rf", "--one-file-system", directory.toString()));
    }
}
