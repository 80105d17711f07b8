package dev.claudecage.verify;

import dev.claudecage.net.cage.CageNetworking;
import dev.claudecage.net.gateway.ApiCredential;
import dev.claudecage.oci.Spec;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each weakening takes down exactly its wall and nothing else. */
class WeakeningTest {

    private static Spec spec() {
        return new Spec(Spec.OCI_VERSION,
                new Spec.Process(false, new Spec.User(1000, 1000, List.of()), List.of("true"), List.of("PATH=/bin"),
                        "/", Spec.Capabilities.none(), List.of(), true, null, null),
                new Spec.Root("rootfs", true), "claude-cage",
                List.of(new Spec.Mount("/sys/fs/cgroup", "cgroup", "cgroup", List.of("nosuid", "ro")),
                        new Spec.Mount("/docs", "bind", "/srv/docs", List.of("bind", "ro"))),
                new Spec.Linux(List.of(Spec.Namespace.fresh("pid"), Spec.Namespace.fresh("uts"),
                        Spec.Namespace.fresh("network")),
                        new Spec.Resources(List.of(), new Spec.Memory(1, 1), new Spec.Cpu(1, 1), new Spec.Pids(64)),
                        "/claude-cage/x", new Spec.Seccomp("SCMP_ACT_ERRNO", 1, List.of(), List.of()),
                        List.of("/proc/kcore"), List.of("/proc/sys")));
    }

    @Test
    void eachWeakeningChangesOnlyItsWall() {
        Spec base = spec();
        assertNull(Weakening.noSeccomp().applyTo(base).linux().seccomp());
        assertFalse(Weakening.writableRoot().applyTo(base).root().readonly());
        assertFalse(Weakening.noNewPrivilegesOff().applyTo(base).process().noNewPrivileges());
        assertEquals(List.of(), Weakening.noMaskedPaths().applyTo(base).linux().maskedPaths());
        assertEquals(List.of(), Weakening.noReadonlyPaths().applyTo(base).linux().readonlyPaths());
        assertNull(Weakening.noPidsLimit().applyTo(base).linux().resources().pids());
        assertNull(Weakening.noMemoryLimit().applyTo(base).linux().resources().memory());
        assertEquals(List.of("CAP_NET_RAW"), Weakening.capabilities("CAP_NET_RAW").applyTo(base).process()
                .capabilities().ambient());
        assertEquals(List.of("nosuid"), Weakening.writableCgroupfs().applyTo(base).mounts().get(0).options());
        assertEquals(List.of("bind", "rw"), Weakening.writableMount("/docs").applyTo(base).mounts().get(1).options());
        assertEquals(base.mounts().size() + 1, Weakening.exposeHostDirectory("/srv/secret").applyTo(base).mounts().size());
        // Everything else stays as it was.
        assertEquals(base.process(), Weakening.noSeccomp().applyTo(base).process());
        assertEquals(base.linux(), Weakening.writableRoot().applyTo(base).linux());
    }

    @Test
    void sharingTheHostUtsNamespaceDropsTheHostname() {
        Spec shared = Weakening.hostNamespace("uts").applyTo(spec());
        assertNull(shared.hostname());
        assertEquals(List.of("pid", "network"), shared.linux().namespaces().stream().map(Spec.Namespace::type).toList());
        assertEquals("claude-cage", Weakening.hostNamespace("network").applyTo(spec()).hostname());
    }

    @Test
    void combinedWeakeningsApplyAllAndNameAll() {
        Weakening both = Weakening.all(Weakening.noSeccomp(), Weakening.capabilities("CAP_SYS_ADMIN"));
        Spec weakened = both.applyTo(spec());
        assertNull(weakened.linux().seccomp());
        assertTrue(weakened.process().capabilities().effective().contains("CAP_SYS_ADMIN"));
        assertEquals("no seccomp filter + capabilities CAP_SYS_ADMIN in the host's user namespace", both.description());
    }

    @Test
    void networkWeakeningsChangeOnlyTheNetworkSetup() {
        CageNetworking.Options held = new CageNetworking.Options(ApiCredential.apiKey(() -> "sk-ant-api03-x".toCharArray(), "test"), Path.of("/a"),
                Path.of("/s"), Path.of("/l"));

        assertNull(Weakening.noApiKey().applyTo(held).realKey());
        assertFalse(Weakening.noApiKey().applyTo(held).openIdlePorts());
        assertTrue(Weakening.idleGatewayPortsOpen().applyTo(held).openIdlePorts());
        assertEquals(held.realKey(), Weakening.idleGatewayPortsOpen().applyTo(held).realKey());
        assertEquals(spec(), Weakening.noApiKey().applyTo(spec()));
        assertEquals(held, Weakening.noSeccomp().applyTo(held), "a spec weakening leaves the network as it is");
        CageNetworking.Options both = Weakening.all(Weakening.noApiKey(), Weakening.idleGatewayPortsOpen()).applyTo(held);
        assertNull(both.realKey());
        assertTrue(both.openIdlePorts());
    }
}
