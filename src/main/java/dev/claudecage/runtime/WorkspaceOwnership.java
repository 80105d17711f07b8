package dev.claudecage.runtime;

import dev.claudecage.CageException;
import dev.claudecage.Teardown;
import dev.claudecage.UserInputException;
import dev.claudecage.config.CageConfig;
import dev.claudecage.config.MountOwnership;
import dev.claudecage.config.MountSpec;
import dev.claudecage.host.Directories;
import dev.claudecage.host.HostIds;
import dev.claudecage.host.IdmappedMount;
import dev.claudecage.host.IdBlock;
import dev.claudecage.host.LinuxSyscalls;
import dev.claudecage.identity.IdShift;
import dev.claudecage.identity.IdShifts;
import dev.claudecage.oci.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Makes what the cage writes into the user's mounts belong to the host user it works as there
 * ({@link MountOwnership}: the named owner, else the sudo user, else the path's owner, never root):
 * each mount whose owner is not the cage's own uid is shifted ({@link IdmappedMount}) so that the
 * cage's user works on it as that user, and the files it creates belong on disk to them.
 * <p>
 * A cage with ids of its own ({@link IdBlock}) has every mount shifted: one that the cage's uid
 * owns shows its stored ids as the cage's own (stored 1000 is the cage's 1000, as in the image),
 * one of another owner shows that owner's files, and only theirs, as the cage user's.
 */
final class WorkspaceOwnership implements AutoCloseable {

    private final Teardown teardown = new Teardown("cleanup of the shifted mounts", null);
    private final Map<String, String> stagedSources = new LinkedHashMap<>();

    private WorkspaceOwnership(Path stagingDir) {
        teardown.push("remove " + stagingDir, () -> Files.deleteIfExists(stagingDir));
    }

    /** How a mount is shifted, or null when it is bound as it is. */
    private static IdShift shift(MountOwnership.Decision decision, CageConfig config, IdBlock block) {
        HostIds cage = new HostIds(config.uid(), config.gid());
        return switch (decision.outcome()) {
            case AS_IT_IS -> block == null ? null : IdShift.wholeBlock(block);
            case SHIFTED -> IdShift.onto(decision.onto(), block == null ? cage : block.host(cage));
            case REFUSED -> null;
        };
    }

    /**
     * @param block  the cage's own host ids, or null when it shares the host's
     * @param shifts where the shifting namespaces come from
     */
    static WorkspaceOwnership stage(CageConfig config, Path stagingDir, IdBlock block, IdShifts shifts) {
        WorkspaceOwnership ownership = new WorkspaceOwnership(stagingDir);
        try {
            int index = 0;
            for (MountSpec mount : config.mounts()) {
                // Decided again as the mount is made: the configuration was checked earlier, maybe in another process.
                MountOwnership.Decision decision = MountOwnership.decide(config, mount);
                if (decision.outcome() == MountOwnership.Outcome.REFUSED) {
                    throw new UserInputException("mounts: '" + mount.format() + "' " + decision.problem(), decision.remedy());
                }
                IdShift shift = shift(decision, config, block);
                if (shift != null) {
                    // Private: the runtime opens these from the host, and no other account has a way in.
                    Directories.createPrivate(stagingDir);
                    Path staged = stagingDir.resolve(Integer.toString(index++));
                    // A read-only mount's copy is read-only in the kernel too: runsc's file server opens the copy itself.
                    ownership.teardown.push("unmount " + staged, IdmappedMount.create(mount.source(), staged,
                            shifts.namespace(shift), mount.readOnly() ? LinuxSyscalls.MOUNT_ATTR_RDONLY : 0));
                    ownership.stagedSources.put(mount.source().toString(), staged.toString());
                }
            }
            return ownership;
        } catch (IOException | RuntimeException e) {
            CageException failure = e instanceof CageException cageException ? cageException
                    : new CageException("cannot prepare the shifted mounts in " + stagingDir + ": " + e.getMessage());
            throw Teardown.closeAfter(ownership, failure);
        }
    }

    /**
     * The spec with each shifted mount's source replaced by its staged, shifted copy, and the
     * sources of binds inside it (the workspace's guards) by the same place in that copy.
     */
    Spec applyTo(Spec spec) {
        return spec.withMounts(spec.mounts().stream()
                .map(mount -> mount.type().equals("bind") ? new Spec.Mount(mount.destination(), mount.type(),
                        staged(mount.source()), mount.options()) : mount)
                .toList());
    }

    private String staged(String source) {
        for (Map.Entry<String, String> entry : stagedSources.entrySet()) {
            Path original = Path.of(entry.getKey());
            Path path = Path.of(source);
            if (path.startsWith(original)) {
                return Path.of(entry.getValue()).resolve(original.relativize(path)).toString();
            }
        }
        return source;
    }

    /** Unmounts the shifted mounts, then removes the staging folder (empty by then: the cage's other staged mounts go first). */
    @Override
    public void close() {
        teardown.close();
    }
}
