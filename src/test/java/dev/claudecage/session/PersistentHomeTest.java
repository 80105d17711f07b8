package dev.claudecage.session;

import dev.claudecage.oci.Spec;
import dev.claudecage.oci.SpecBuilder;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PersistentHomeTest {

    private static Spec spec(List<Spec.Mount> mounts) {
        return new Spec(Spec.OCI_VERSION, null, new Spec.Root("rootfs", true), "h", mounts, null);
    }

    @Test
    void theHomeTmpfsBecomesABindMountInItsPlace() {
        Spec.Mount tmp = new Spec.Mount("/tmp", "tmpfs", "tmpfs", List.of("nosuid"));
        Spec.Mount home = new Spec.Mount(SpecBuilder.CAGE_HOME, "tmpfs", "tmpfs", List.of("mode=700"));
        Spec.Mount workspace = new Spec.Mount("/workspace", "bind", "/w", List.of("bind"));
        Spec adjusted = PersistentHome.bind(spec(List.of(tmp, home, workspace)), Path.of("/var/lib/x/home"));
        assertEquals(List.of(tmp, new Spec.Mount(SpecBuilder.CAGE_HOME, "bind", "/var/lib/x/home",
                List.of("bind", "rprivate", "nosuid", "nodev", "rw", SpecBuilder.IDMAP)), workspace), adjusted.mounts(),
                "idmapped: stored as the image's ids, the cage's own whatever ids it has");
    }

    @Test
    void aSpecWithoutTheHomeTmpfsIsAMistake() {
        assertThrows(IllegalStateException.class, () -> PersistentHome.bind(spec(List.of()), Path.of("/h")));
    }
}
