package dev.claudecage.runtime;

import dev.claudecage.json.Json;
import dev.claudecage.oci.CageRequest;
import dev.claudecage.oci.SpecBuilderTest;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.rootless.CgroupDelegation;
import dev.claudecage.rootless.IdMap;
import dev.claudecage.rootless.IdRange;
import dev.claudecage.rootless.RootlessHost;
import dev.claudecage.security.AppArmor;
import dev.claudecage.security.SeccompPolicy;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class CagePlanTest {

    /** A session keeps its plan as JSON; what its supervisor and verify --session read back is what was resolved. */
    @Test
    void aRecordedPlanReadsBackAsResolved() {
        List<IdRange> subordinate = List.of(new IdRange(100000, 65536));
        RootlessHost rootless = new RootlessHost(IdMap.forCage("uid", 1000, 1001, subordinate, "/etc/subuid"),
                IdMap.forCage("gid", 1000, 1001, subordinate, "/etc/subgid"),
                new CgroupDelegation(true, Path.of("/sys/fs/cgroup/user.slice/user-1001.slice"), "delegated"));
        CagePlan plan = new CagePlan(SpecBuilderTest.config(List.of()),
                List.of(Path.of("/var/lib/claude-cage/images/layers/ab/diff"),
                        Path.of("/var/lib/claude-cage/images/layers/cd/diff")),
                new CageRequest.ImageDefaults(List.of("PATH=/usr/bin"), "/workspace", List.of("/var/cache/app"), "SIGINT"),
                new OciRuntime(RuntimeKind.CRUN, Path.of("/usr/bin/crun"), Path.of("/run/claude-cage/runtime/crun"),
                        new ProcessRunner(false)),
                new HostPolicy(SeccompPolicy.defaultPolicy().toOci("amd64"), "claude-cage",
                        new AppArmor(AppArmor.Status.ENFORCED, "enforced")),
                "sha256:" + "0".repeat(64), rootless, null);
        CagePlan.Recorded recorded = plan.recorded();
        CagePlan.Recorded read = Json.read(Json.write(recorded), CagePlan.Recorded.class);
        assertEquals(recorded, read);
        CagePlan again = CagePlan.of(plan.config(), read, new ProcessRunner(false));
        assertEquals(plan.image(), again.image());
        assertEquals(plan.rootfs(), again.rootfs());
        assertEquals(plan.imageId(), again.imageId());
        assertEquals(plan.runtime().binary(), again.runtime().binary());
        assertEquals(plan.runtime().stateRoot(), again.runtime().stateRoot());
        assertEquals(plan.rootless(), again.rootless());
    }
}
