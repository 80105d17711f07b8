package dev.claudecage.session;

import dev.claudecage.oci.Spec;
import dev.claudecage.oci.SpecBuilder;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A session whose home persists gets its home folder bind-mounted at /home/claude in place of
 * the tmpfs the spec builder puts there, with the same restrictions as the user's mounts
 * (nosuid, nodev), and idmapped ({@link SpecBuilder#IDMAP}): its files are stored with the cage's
 * ids as the image has them (1000:1000), which a cage with host ids of its own sees as its own,
 * whatever ids it gets at the next start. Everything else about the spec stays as built.
 */
final class PersistentHome {

    private PersistentHome() {
    }

    static Spec bind(Spec spec, Path home) {
        List<Spec.Mount> mounts = new ArrayList<>();
        boolean replaced = false;
        for (Spec.Mount mount : spec.mounts()) {
            if (mount.destination().equals(SpecBuilder.CAGE_HOME) && "tmpfs".equals(mount.type())) {
                mounts.add(new Spec.Mount(SpecBuilder.CAGE_HOME, "bind", home.toString(),
                        List.of("bind", "rprivate", "nosuid", "nodev", "rw", SpecBuilder.IDMAP)));
                replaced = true;
            } else {
                mounts.add(mount);
            }
        }
        if (!replaced) {
            throw new IllegalStateException("the spec has no tmpfs at " + SpecBuilder.CAGE_HOME + " to replace");
        }
        return spec.withMounts(mounts);
    }
}
