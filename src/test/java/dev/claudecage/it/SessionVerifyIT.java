package dev.claudecage.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.claudecage.json.Json;
import dev.claudecage.net.AuditEvent;
import dev.claudecage.net.AuditLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.claudecage.it.CageHarness.ROOTFS;
import static dev.claudecage.it.CageHarness.cage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code verify --session}: the probes run inside a running session's cage and leave it as it was. */
@ExtendWith(CleanSessionHost.class)
class SessionVerifyIT {

    /**
     * What a live session cannot be given (a setuid fixture mount) or should not risk (bombs, writes to its workspace,
     * the direct API route, which would lead to the real API if it were open).
     */
    private static final Set<String> NOT_RUN_LIVE = Set.of("setuid-inert", "pids-limit-holds", "memory-limit-holds",
            "workspace-protected-paths-hold", "workspace-folders-pinned", "api-direct-route-closed");

    @Test
    void aRunningFilteredSessionIsProbedInPlaceAndKeepsRunning(@TempDir Path dir) throws Exception {
        Path shared = Files.createDirectories(dir.resolve("shared"));
        Files.writeString(shared.resolve("notes.txt"), "read-only for the cage\n");
        CageHarness.Result start = cage("start", "--detach", "--name", "it-verify", "--rootfs", ROOTFS.toString(),
                "--network", "filtered", "--memory", "256m", "--mount", shared + ":/shared:ro",
                "--", "sh", "-c", "echo $$ > /tmp/main.pid; exec sleep 600");
        assertEquals(0, start.exitCode(), start.toString());
        String mainPid = cage("shell", "it-verify", "--", "cat", "/tmp/main.pid").stdout().strip();

        CageHarness.Result verify = CageHarness.launch(List.of("verify", "--json", "--session", "it-verify"), "",
                Map.of(), Duration.ofMinutes(8));
        JsonNode report = Json.mapper().readTree(verify.stdout());
        assertEquals("session it-verify", report.path("target").asText(), verify.toString());
        List<String> failures = new ArrayList<>();
        for (JsonNode probe : report.path("probes")) {
            String id = probe.path("id").asText();
            String outcome = probe.path("outcome").asText();
            System.out.printf("%-30s %-8s control=%-8s %s%n", id, outcome,
                    probe.path("control").path("outcome").asText(), probe.path("detail").asText());
            String expected = NOT_RUN_LIVE.contains(id) ? "not-run" : "blocked";
            if (!outcome.equals(expected)) {
                failures.add(id + " is " + outcome + ", expected " + expected + ": " + probe.path("detail").asText());
            }
            if (!probe.path("control").path("outcome").asText().equals("hole")) {
                failures.add(id + " control did not show the hole: " + probe.path("control").path("detail").asText());
            }
        }
        assertEquals(List.of(), failures, verify.stderr());
        assertEquals(0, verify.exitCode(), verify.toString());
        // The session's own read-only mount took the read-only probe; the gateway probe saw the session's link.
        assertTrue(detail(report, "readonly-mount-holds").contains("write refused"), report.toString());
        assertTrue(detail(report, "network-interfaces-expected").length() > 0, report.toString());
        assertTrue(detail(report, "pids-limit-holds").contains("pids.max = "), report.toString());

        // The session is as it was: running, the same main process, nothing written to its mount.
        JsonNode status = Json.mapper().readTree(cage("status", "--json", "it-verify").stdout());
        assertEquals("running", status.path("state").asText(), status.toString());
        assertEquals(mainPid, cage("shell", "it-verify", "--", "cat", "/tmp/main.pid").stdout().strip());
        assertEquals(0, cage("shell", "it-verify", "--", "sh", "-c", "kill -0 " + mainPid).exitCode());
        try (var files = Files.list(shared)) {
            assertEquals(List.of(shared.resolve("notes.txt")), files.toList());
        }
    }

    /**
     * verify --session checks the session with the plan it was started with (image, layers, runtime,
     * policy), recorded at its start, not one resolved again from its configuration: what the host
     * holds under the same names may have changed since (here its seccomp profile file, which could
     * as well be an image tag moved to another image).
     */
    @Test
    void verifySessionUsesThePlanTheSessionStartedWithThoughTheHostChangedSince(@TempDir Path dir) throws Exception {
        Path profile = Files.copy(Path.of("security/seccomp-default.json"), dir.resolve("seccomp.json"));
        CageHarness.Result start = cage("start", "--detach", "--name", "it-verify-plan", "--rootfs", ROOTFS.toString(),
                "--network", "none", "--seccomp-profile", profile.toString(), "--", "sleep", "600");
        assertEquals(0, start.exitCode(), start.toString());
        Files.writeString(profile, "no longer a seccomp profile\n");
        CageHarness.Result rejected = cage("run", "--rootfs", ROOTFS.toString(), "--network", "none",
                "--seccomp-profile", profile.toString(), "--", "true");
        assertEquals(2, rejected.exitCode(), "positive control: a plan resolved now would fail on the file: " + rejected);

        CageHarness.Result verify = CageHarness.launch(List.of("verify", "--json", "--no-controls", "--session",
                "it-verify-plan"), "", Map.of(), Duration.ofMinutes(4));
        assertEquals(0, verify.exitCode(), verify.toString());
        JsonNode report = Json.mapper().readTree(verify.stdout());
        assertEquals("blocked", outcome(report, "seccomp-filter-active"), report.toString());
        // Issue 18: the session's evidence trail has the result, written by its supervisor when the run ended.
        assertEquals(0, cage("stop", "--timeout", "1", "it-verify-plan").exitCode());
        List<AuditEvent> trail = AuditLog.read(CageHarness.SESSION_DATA.resolve("it-verify-plan/logs/audit.jsonl"));
        assertTrue(trail.stream().anyMatch(event -> event.source().equals("verify") && event.decision().equals("passed")
                && event.reason().startsWith("verify --session: ") && event.reason().endsWith("positive controls not run")),
                trail.toString());
    }

    @Test
    void aSessionThatIsMissingOrNotRunningOrExtraOptionsAreRefused() {
        CageHarness.Result missing = cage("verify", "--session", "it-nosuch");
        assertEquals(2, missing.exitCode(), missing.toString());
        assertTrue(missing.stderr().contains("no session named 'it-nosuch'"), missing.toString());

        assertEquals(0, cage("start", "--detach", "--name", "it-stopped", "--rootfs", ROOTFS.toString(),
                "--network", "none", "--", "true").exitCode());
        CageHarness.Result stopped = cage("verify", "--session", "it-stopped");
        assertEquals(1, stopped.exitCode(), stopped.toString());
        assertTrue(stopped.stderr().contains("not running"), stopped.toString());

        CageHarness.Result withOptions = cage("verify", "--session", "it-nosuch", "--network", "none");
        assertEquals(2, withOptions.exitCode(), withOptions.toString());
        assertTrue(withOptions.stderr().contains("cannot be given"), withOptions.toString());
    }

    private static String outcome(JsonNode report, String id) {
        for (JsonNode probe : report.path("probes")) {
            if (probe.path("id").asText().equals(id)) {
                return probe.path("outcome").asText();
            }
        }
        return "no probe " + id;
    }

    private static String detail(JsonNode report, String id) {
        for (JsonNode probe : report.path("probes")) {
            if (probe.path("id").asText().equals(id)) {
                return probe.path("detail").asText();
            }
        }
        return "";
    }
}
