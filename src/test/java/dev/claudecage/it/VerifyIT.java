package dev.claudecage.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.claudecage.json.Json;
import dev.claudecage.testing.Screenshots;
import dev.claudecage.verify.ReportTable;
import dev.claudecage.verify.VerifyReport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.claudecage.it.CageHarness.ROOTFS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code claude-cage verify}: every wall holds, and every positive control shows its hole. */
class VerifyIT {

    @BeforeEach
    void requireHost() throws Exception {
        CageHarness.requireRootAndRootfs();
        assertEquals(List.of(), CageHarness.leftovers(), "the host holds cage leftovers before the test");
    }

    @AfterEach
    void nothingLeftBehind() throws Exception {
        assertEquals(List.of(), CageHarness.leftovers(), "verify left something behind");
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "filtered"})
    void everyProbeIsBlockedAndEveryControlShowsTheHole(String network) throws Exception {
        // A smaller memory limit keeps the memory bomb and its control quick; the wall is the same.
        List<String> policy = List.of("--rootfs", ROOTFS.toString(), "--network", network, "--memory", "256m");
        List<String> arguments = new ArrayList<>(List.of("verify", "--json"));
        arguments.addAll(policy);
        CageHarness.Result result = CageHarness.launch(arguments, "", Map.of(), Duration.ofMinutes(8));
        JsonNode report = Json.mapper().readTree(result.stdout());
        List<String> failures = new ArrayList<>();
        for (JsonNode probe : report.path("probes")) {
            String id = probe.path("id").asText();
            System.out.printf("%-30s %-8s control=%-8s %s%n", id, probe.path("outcome").asText(),
                    probe.path("control").path("outcome").asText(), probe.path("detail").asText());
            if (!probe.path("outcome").asText().equals("blocked")) {
                failures.add(id + " not blocked: " + probe.path("detail").asText());
            }
            if (!probe.path("control").path("outcome").asText().equals("hole")) {
                failures.add(id + " control did not show the hole: " + probe.path("control").path("detail").asText());
            }
        }
        assertEquals(List.of(), failures, result.stderr());
        assertTrue(report.path("probes").size() >= 36, "at least 36 probes: " + report.path("probes").size() + "; " + result);
        List<String> ids = new ArrayList<>();
        report.path("probes").forEach(probe -> ids.add(probe.path("id").asText()));
        for (String gatewayProbe : List.of("gateway-other-ports-blocked", "gateway-idle-ports-closed",
                "api-direct-route-closed")) {
            assertEquals(network.equals("filtered"), ids.contains(gatewayProbe), gatewayProbe + " runs exactly in filtered mode");
        }
        assertEquals(0, result.exitCode(), result.toString());
        assertTrue(report.path("appArmor").asText().contains("unavailable on this host")
                || report.path("appArmor").asText().contains("enforced"), report.path("appArmor").asText());
        if (network.equals("filtered")) {
            // The README's picture (make screenshots): the table verify prints without --json, for the default network.
            Screenshots.saveTerminal("verify.png", "$ sudo claude-cage verify "
                    + String.join(" ", policy) + "\n"
                    + ReportTable.render(Json.mapper().treeToValue(report, VerifyReport.class)));
        }
    }

    @Test
    void tableOutputSaysEveryWallHeld() {
        CageHarness.Result result = CageHarness.launch(List.of("verify", "--no-controls", "--rootfs", ROOTFS.toString(),
                "--network", "none", "--memory", "256m"), "", Map.of(), Duration.ofMinutes(5));
        assertEquals(0, result.exitCode(), result.toString());
        assertTrue(result.stdout().contains("verify: every wall held"), result.toString());
        assertTrue(result.stdout().contains("positive controls: not run"), result.toString());
    }
}
