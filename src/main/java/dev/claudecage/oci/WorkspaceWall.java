package dev.claudecage.oci;

import java.nio.file.Path;
import java.util.List;

/**
 * The extra bind mounts that keep the protected paths of the writable workspace mounts out of the
 * cage's reach, as found on the host just before the cage starts. Each guard is a bind of a
 * path onto itself: read-only for a protected path (or the placeholder that holds a missing
 * one's place), writable for a folder on the way to one (a "pin"). A mount point cannot be
 * renamed, replaced or removed from inside the mount namespace that holds it, so a pin stops
 * the cage from renaming {@code .git} away and making a new {@code .git/config} in its place.
 */
public record WorkspaceWall(List<Guard> guards) {

    public static final WorkspaceWall NONE = new WorkspaceWall(List.of());

    public WorkspaceWall {
        guards = List.copyOf(guards);
    }

    /**
     * @param mountTarget the cage path of the workspace mount the guard lies in, e.g. /workspace
     * @param relative    its path inside that mount, e.g. .git/config
     * @param source      the host path it binds
     * @param readOnly    a read-only cover (true) or a writable pin (false)
     */
    public record Guard(String mountTarget, String relative, Path source, boolean readOnly) {
        public String destination() {
            return mountTarget + "/" + relative;
        }
    }

    /** The guards inside the mount at {@code mountTarget}, outermost first, as the runtime must mount them. */
    public List<Guard> inside(String mountTarget) {
        return guards.stream().filter(guard -> guard.mountTarget().equals(mountTarget)).toList();
    }
}
