package dev.claudecage.doctor;

import dev.claudecage.host.CgroupLayout;
import dev.claudecage.rootless.IdRange;
import dev.claudecage.security.AppArmor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DiagnosisTest {

    private static final HostSnapshot.MapHelper SETUID = new HostSnapshot.MapHelper("/usr/bin/newuidmap", true, "setuid root");
    private static final AppArmor NO_APPARMOR = new AppArmor(AppArmor.Status.UNAVAILABLE,
            "unavailable on this host: the kernel has no AppArmor");

    /** This CI host, as an unprivileged user with a subordinate range. */
    private static HostSnapshot thisHostAsUser(List<IdRange> subuids) {
        return new HostSnapshot(4711, "alice", "6.18.44", "runc version 1.1.5+ds1", "crun version 1.8.1",
                CgroupLayout.HYBRID, false, "not writable: /sys/fs/cgroup/pids", subuids,
                List.of(new IdRange(100000, 65536)), NO_APPARMOR, 96365, null, "nftables v1.0.6", SETUID, SETUID,
                "/run/user/4711", null);
    }

    private static Diagnosis.Finding finding(Diagnosis diagnosis, String check) {
        return diagnosis.findings().stream().filter(finding -> finding.check().equals(check)).findFirst().orElseThrow();
    }

    @Test
    void thisHostRunsRootlessCagesOnlyWithoutLimits() {
        Diagnosis diagnosis = Diagnosis.of(thisHostAsUser(List.of(new IdRange(100000, 65536))));
        assertTrue(diagnosis.canRun());
        assertTrue(diagnosis.rootless());
        assertEquals("rootless: cages can run, but only with --allow-unlimited (no cgroup delegation)", diagnosis.verdict());
        assertEquals(Diagnosis.Status.LIMITED, finding(diagnosis, "cgroup delegation").status());
        assertTrue(finding(diagnosis, "cgroup delegation").cost().contains("--cpus, --memory and --pids-limit"));
        assertEquals(Diagnosis.Status.MISSING, finding(diagnosis, "runtime crun").status());
        assertTrue(finding(diagnosis, "runtime crun").detail().contains("refuses this host's hybrid cgroup layout"));
        assertEquals("unavailable on this host: the kernel has no AppArmor", finding(diagnosis, "AppArmor").detail());
        assertEquals(Diagnosis.Status.OK, finding(diagnosis, "user namespaces").status());
        assertEquals(Diagnosis.Status.OK, finding(diagnosis, "overlayfs in a user namespace").status());
    }

    @Test
    void withoutSubordinateIdsOrNewuidmapRootlessCagesCannotRun() {
        HostSnapshot host = thisHostAsUser(List.of());
        Diagnosis diagnosis = Diagnosis.of(new HostSnapshot(host.uid(), host.userName(), host.kernel(), host.runcVersion(),
                host.crunVersion(), host.cgroupLayout(), false, host.cgroupDetail(), List.of(), host.subgids(),
                host.appArmor(), host.maxUserNamespaces(), 0, null, HostSnapshot.MapHelper.missing(), SETUID, null, null));
        assertFalse(diagnosis.canRun());
        assertEquals("rootless: cages cannot run for this user (missing: subuid ranges, user namespaces, newuidmap)",
                diagnosis.verdict());
        assertTrue(finding(diagnosis, "subuid ranges").cost().contains("usermod --add-subuids"));
        assertTrue(finding(diagnosis, "nft").cost().startsWith("none for rootless cages"));
        assertEquals(Diagnosis.Status.LIMITED, finding(diagnosis, "XDG_RUNTIME_DIR").status());
    }

    @Test
    void aUnifiedHostWithDelegationRunsEverything() {
        Diagnosis diagnosis = Diagnosis.of(new HostSnapshot(4711, "alice", "6.1.0", "runc version 1.1.5",
                "crun version 1.8.1", CgroupLayout.V2, true, "writable", List.of(new IdRange(100000, 65536)),
                List.of(new IdRange(100000, 65536)), NO_APPARMOR, 1000, 1, "nftables", SETUID, SETUID, "/run/user/4711", null));
        assertEquals("rootless: cages can run", diagnosis.verdict());
        assertEquals(Diagnosis.Status.OK, finding(diagnosis, "runtime crun").status());
    }

    private static final HostSnapshot.OwnIds POOL = new HostSnapshot.OwnIds(
            "the subordinate ids of the claude-cage account", 1024, null, 2, null);

    private static HostSnapshot asRoot(HostSnapshot.OwnIds ownIds) {
        HostSnapshot host = thisHostAsUser(List.of());
        return new HostSnapshot(0, "root", host.kernel(), host.runcVersion(), host.crunVersion(),
                host.cgroupLayout(), true, "root manages cgroups itself", List.of(), List.of(), host.appArmor(),
                host.maxUserNamespaces(), null, host.nftVersion(), SETUID, SETUID, null, ownIds);
    }

    @Test
    void rootNeedsNoSubordinateIdsOfItsOwn() {
        Diagnosis diagnosis = Diagnosis.of(asRoot(POOL));
        assertEquals("root mode: cages can run", diagnosis.verdict());
        assertEquals(Diagnosis.Status.NOT_NEEDED, finding(diagnosis, "subuid ranges").status());
        assertFalse(diagnosis.findings().stream().anyMatch(finding -> finding.check().equals("XDG_RUNTIME_DIR")));
    }

    @Test
    void withThePoolEachCageIsNobodyOnTheHost() {
        Diagnosis diagnosis = Diagnosis.of(asRoot(POOL));
        assertEquals(Diagnosis.Status.OK, finding(diagnosis, "cages' own ids").status());
        assertEquals("1024 blocks of 65536 from the subordinate ids of the claude-cage account, 2 held now",
                finding(diagnosis, "cages' own ids").detail());
        assertTrue(diagnosis.identity().startsWith("each cage runs as 65536 host ids of its own"), diagnosis.identity());
    }

    @Test
    void withoutThePoolOrIdmappedLayersCagesRunAsTheHostUidAndTheCostIsSaid() {
        for (HostSnapshot.OwnIds ids : List.of(
                new HostSnapshot.OwnIds("the subordinate ids of the claude-cage account", 0,
                        "no subordinate uids for the claude-cage account in /etc/subuid; scripts/install-deps.sh ...", 0, null),
                new HostSnapshot.OwnIds("the subordinate ids of the claude-cage account", 1024, null, 0,
                        "kernel 5.15.0 is older than 5.19, whose overlayfs takes idmapped layers"))) {
            Diagnosis diagnosis = Diagnosis.of(asRoot(ids));
            Diagnosis.Finding finding = finding(diagnosis, "cages' own ids");
            assertEquals(Diagnosis.Status.MISSING, finding.status());
            assertTrue(finding.cost().contains("can trace the cages, read their environment"), finding.cost());
            assertTrue(diagnosis.identity().startsWith("every cage runs as host uid 1000"), diagnosis.identity());
            assertTrue(diagnosis.canRun(), "cages still run, as they did before they had ids of their own");
        }
        assertTrue(Diagnosis.of(thisHostAsUser(List.of(new IdRange(100000, 65536)))).identity().startsWith("rootless"));
    }

    @Test
    void cgroupLayoutsAreReadFromTheMountTable() {
        assertEquals(CgroupLayout.HYBRID, CgroupLayout.fromMounts(List.of(
                "cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0", "cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0")));
        assertEquals(CgroupLayout.V2, CgroupLayout.fromMounts(List.of("cgroup2 /sys/fs/cgroup cgroup2 rw 0 0")));
        assertEquals(CgroupLayout.V1, CgroupLayout.fromMounts(List.of("cgroup /sys/fs/cgroup/pids cgroup rw,pids 0 0")));
        assertEquals(CgroupLayout.NONE, CgroupLayout.fromMounts(List.of("proc /proc proc rw 0 0")));
    }
}
