package dev.claudecage.rootless;

import dev.claudecage.CageException;
import dev.claudecage.config.MountSpec;
import dev.claudecage.json.Json;
import dev.claudecage.oci.Spec;
import dev.claudecage.oci.SpecBuilder;
import dev.claudecage.oci.SpecBuilderTest;
import dev.claudecage.testing.Golden;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RootlessHostTest {

    private static final IdMap UIDS = IdMap.forCage("uid", 1000, 4711, List.of(new IdRange(100000, 65536)), "/etc/subuid");
    private static final RootlessHost UNDELEGATED = new RootlessHost(UIDS, UIDS,
            new CgroupDelegation(false, null, "cgroup v1 controllers"));
    private static final RootlessHost DELEGATED = new RootlessHost(UIDS, UIDS,
            new CgroupDelegation(true, Path.of("/sys/fs/cgroup/user.slice/user-4711.slice"), "writable"));

    /** The default spec's inputs, so that its golden file and the rootless one differ only by the adaptation. */
    private static Spec rootSpec() {
        return SpecBuilder.build(SpecBuilderTest.config(List.of(
                new MountSpec(Path.of("/home/user/project"), "/workspace", false),
                new MountSpec(Path.of("/home/user/docs"), "/docs", true))), SpecBuilderTest.request());
    }

    @Test
    void theRootlessSpecMatchesItsGoldenFile() throws Exception {
        Spec spec = UNDELEGATED.adapt(rootSpec());
        Golden.assertMatches(Path.of("oci/golden/config-rootless.json"), Json.write(spec));
        assertEquals(Json.write(spec), Json.writePlainRecord(spec), "config.json is written without the mapper, the same bytes");
    }

    @Test
    void withoutDelegationTheSpecHasNoCgroupSettingsAndOnlyThat() {
        Spec root = rootSpec();
        Spec rootless = UNDELEGATED.adapt(root);
        assertNull(rootless.linux().resources());
        assertNull(rootless.linux().cgroupsPath());
        assertEquals(root.process(), rootless.process(), "the process keeps its user, capabilities and no_new_privs");
        assertEquals(root.linux().seccomp(), rootless.linux().seccomp());
        assertEquals(root.linux().namespaces(), rootless.linux().namespaces());
        assertEquals(root.mounts(), rootless.mounts(), "with its own pid and network namespaces the cage mounts proc and sysfs");
        assertEquals(root.root(), rootless.root());
    }

    @Test
    void withDelegationTheLimitsStayUnderTheUsersOwnCgroup() {
        Spec rootless = DELEGATED.adapt(rootSpec());
        assertEquals(rootSpec().linux().resources(), rootless.linux().resources());
        assertEquals("/user.slice/user-4711.slice/claude-cage/run-0123456789ab", rootless.linux().cgroupsPath());
    }

    @Test
    void aCageSharingTheHostsNetworkOrPidsGetsTheHostsTreesBoundReadOnly() {
        Spec shared = rootSpec();
        shared = shared.withLinux(shared.linux().withNamespaces(shared.linux().namespaces().stream()
                .filter(namespace -> !namespace.type().equals("network") && !namespace.type().equals("pid")).toList()));
        Spec rootless = UNDELEGATED.adapt(shared);
        for (String tree : List.of("/sys", "/proc")) {
            Spec.Mount mount = rootless.mounts().stream().filter(m -> m.destination().equals(tree)).findFirst().orElseThrow();
            assertEquals(new Spec.Mount(tree, "bind", tree, List.of("rbind", "nosuid", "noexec", "nodev", "ro")), mount);
        }
    }

    @Test
    void limitsThatCannotBeEnforcedAreRefusedByNameUnlessAllowed() {
        CageException refused = assertThrows(CageException.class,
                () -> UNDELEGATED.requireLimits(SpecBuilderTest.config(List.of())));
        assertTrue(refused.getMessage().endsWith("cpus=2, memory=4g, pids_limit=1024"), refused.getMessage());
        assertTrue(refused.hint().contains("--allow-unlimited"), refused.hint());
        DELEGATED.requireLimits(SpecBuilderTest.config(List.of()));
    }
}
