package dev.claudecage.runtime;

import dev.claudecage.CageException;
import dev.claudecage.Teardown;
import dev.claudecage.UserInputException;
import dev.claudecage.config.CageConfig;
import dev.claudecage.config.MountOwnership;
import dev.claudecage.config.MountSpec;
import dev.claudecage.host.IdmappedMount;
import dev.claudecage.oci.Spec;
import dev.claudecage.process.ProcessRunner;

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
 */
final class WorkspaceOwnership implements AutoCloseable {

    private final Teardown teardown = new Teardown("cleanup of the shifted mounts", null);
    private final Map<String, String> stagedSources = new LinkedHashMap<>();

    private WorkspaceOwnership(Path stagingDir) {
        teardown.push("remove " + stagingDir, () -> Files.deleteIfExists(stagingDir));
    }

    static WorkspaceOwnership stage(CageConfig config, Path stagingDir, ProcessRunner runner) {
        WorkspaceOwnership ownership = new WorkspaceOwnership(stagingDir);
        try {
            int index = 0;
            for (MountSpec mount : config.mounts()) {
                // Decided again as the mount is made: the configuration was checked earlier, maybe in another process.
                MountOwnership.Decision decision = MountOwnership.decide(config, mount);
                switch (decision.outcome()) {
                    case AS_IT_IS -> {
                    }
                    case REFUSED -> throw new UserInputException("mounts: '" + mount.format() + "' " + decision.problem(),
                            decision.remedy());
                    case SHIFTED -> {
                        Path staged = stagingDir.resolve(Integer.toString(index++));
                        ownership.teardown.push("unmount " + staged, IdmappedMount.create(mount.source(), staged,
                                config.uid(), config.gid(), decision.onto(), runner));
                        ownership.stagedSources.put(mount.source().toString(), staged.toString());
                    }
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

    @Override
    public void close() {
        teardown.close();
    }
}
