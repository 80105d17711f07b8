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
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    /** Text a host's names could hold: an escape sequence, DEL, non-ASCII, a URI's own characters, spaces. */
    private static final String HOSTILE = "a b\u001b[31m\u007f\u00e9\u202e%41#?:;\"\\\uD83D\uDE00";

    private static CagePlan.Recorded hostileRecorded(Path folder) {
        RootlessHost rootless = new RootlessHost(new IdMap(List.of(new IdMap.Entry(0, 100000, 65536),
                new IdMap.Entry(65536, Long.MAX_VALUE, 1))), new IdMap(List.of()),
                new CgroupDelegation(false, Path.of("/sys/fs/cgroup/" + HOSTILE), HOSTILE));
        return new CagePlan.Recorded(List.of(folder, Path.of("/layers/" + HOSTILE + "/diff"), Path.of("relative/" + HOSTILE)),
                new CageRequest.ImageDefaults(List.of("PATH=/usr/bin", HOSTILE + "x".repeat(100_000)), HOSTILE, List.of(),
                        null),
                RuntimeKind.RUNSC, Path.of("/usr/bin/" + HOSTILE), folder, HOSTILE,
                new HostPolicy(SeccompPolicy.defaultPolicy().toOci("amd64"), null,
                        new AppArmor(AppArmor.Status.UNAVAILABLE, HOSTILE)),
                null, rootless);
    }

    /**
     * The supervisor reads its plan without the object mapper, and the start writes it without: the same
     * bytes as the mapper writes, the same values as it reads, for names a host could hold. A folder's
     * URI ends in a slash, which the path read back does not keep.
     */
    @Test
    void aRecordedPlanIsWrittenAndReadAsTheMapperDoes(@TempDir Path folder) {
        CagePlan.Recorded recorded = hostileRecorded(folder);

        String written = Json.write(recorded);
        assertEquals(written, Json.writePlainRecord(recorded));
        assertTrue(written.contains("\"" + folder.toUri() + "\""), "the positive control: a folder's URI");
        assertEquals(Json.read(written, CagePlan.Recorded.class), Json.readPlainRecord(written, CagePlan.Recorded.class));
        assertEquals(new CagePlan.Recorded(recorded.rootfs().stream().map(Path::toAbsolutePath).toList(),
                        recorded.image(), recorded.runtime(), recorded.runtimeBinary(), recorded.runtimeState(),
                        recorded.runtimePlatform(), recorded.policy(), recorded.imageId(), recorded.rootless()),
                Json.readPlainRecord(written, CagePlan.Recorded.class), "a relative path is written as its URI, absolute");
    }

    @Test
    void aPlanTheMapperWouldReadDifferentlyIsRefused() {
        String written = Json.write(hostileRecorded(Path.of("/var/lib/x")));
        assertTrue(written.contains("\"runtime\" : \"RUNSC\""), written);
        for (String changed : List.of(
                written.replace("\"runtime\" : \"RUNSC\"", "\"runtime\" : 2"),
                written.replace("\"runtime\" : \"RUNSC\"", "\"runtime\" : \"runsc\""),
                written.replace("\"runtime\" : \"RUNSC\"", "\"runtime\" : \"RUNSC\", \"extra\" : 1"),
                written.replace("\"inside\" : 0", "\"inside\" : \"0\""),
                written.replace("\"inside\" : 0", "\"inside\" : 0.5"),
                written.replace("\"defaultErrnoRet\" : 1", "\"defaultErrnoRet\" : 99999999999"),
                written.replace("\"delegated\" : false", "\"delegated\" : 0"),
                written.replace("\"rootfs\" : [", "\"rootfs\" : null, \"x\" : ["),
                written.replace("\"rootfs\" : [", "\"rootfs\" : \"/one\", \"x\" : ["),
                written.replace("\"env\" : [ \"PATH=/usr/bin\"", "\"env\" : [ 7"),
                written.replace("\"runtimeBinary\" : \"file:", "\"runtimeBinary\" : \"http:"),
                written + "{}",
                written.substring(0, written.length() / 2))) {
            assertNotEquals(written, changed);
            assertThrows(RuntimeException.class, () -> Json.readPlainRecord(changed, CagePlan.Recorded.class));
        }
        assertTrue(Json.readPlainRecord(written, CagePlan.Recorded.class).rootless().uids().entries().size() == 2,
                "the positive control");
    }

    /** What the mapper makes of a field left out or null: null, or a primitive's zero. */
    @Test
    void aMissingOrNullFieldIsReadAsTheMapperReadsIt() {
        for (String json : List.of("{\"entries\":[{\"inside\":5}]}", "{\"entries\":[{\"inside\":5,\"outside\":null}]}")) {
            assertEquals(Json.read(json, IdMap.class), Json.readPlainRecord(json, IdMap.class), json);
        }
        String nulls = "{\"delegated\":null,\"cgroup\":null,\"detail\":\"x\"}";
        assertEquals(Json.read(nulls, CgroupDelegation.class), Json.readPlainRecord(nulls, CgroupDelegation.class));
        assertEquals(new CgroupDelegation(false, null, "x"), Json.readPlainRecord(nulls, CgroupDelegation.class));
    }
}
