package dev.claudecage.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shipped CLI image, built for real ({@code claude-cage build cli}: Debian packages from the
 * Debian mirrors, Claude Code from the npm registry), then used as {@code run} and
 * {@code verify} use it by default. One build: when the store has the image already, the first
 * test finds every step in the cache, and later tests reuse it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ImageCliIT {

    /** The version docker/cli/Dockerfile pins. */
    static final String CLAUDE_CODE_VERSION = "2.1.332";

    private List<String> leftoversBefore;

    @BeforeEach
    void requireHost() throws Exception {
        CageHarness.requireRootAndRootfs();
        leftoversBefore = CageHarness.leftovers();
    }

    @AfterEach
    void nothingLeftBehind() throws Exception {
        assertEquals(List.of(), ImageBuildIT.newLeftovers(leftoversBefore), "the test left something behind");
    }

    @Test
    @Order(1)
    void buildCliThenRunPrintsTheRealClaudeCodeVersion() {
        CageHarness.Result built = CageHarness.launch(List.of("build", "cli"), "", Map.of(), Duration.ofMinutes(30));
        assertEquals(0, built.exitCode(), built.toString());
        assertTrue(built.stdout().contains("built cli:latest"), built.toString());
        CageHarness.Result version = CageHarness.launch(List.of("run", "--network", "none", "--", "claude", "--version"));
        assertEquals(0, version.exitCode(), version.toString());
        assertEquals(CLAUDE_CODE_VERSION + " (Claude Code)\n", version.stdout());
    }

    @Test
    @Order(2)
    void aSecondBuildWithNothingChangedTakesUnderTwoSecondsAllFromTheCache() {
        long started = System.nanoTime();
        CageHarness.Result again = CageHarness.launch(List.of("build", "cli"));
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        assertEquals(0, again.exitCode(), again.toString());
        assertTrue(again.stdout().contains("steps, all from the cache"), again.toString());
        assertTrue(took.compareTo(Duration.ofSeconds(2)) < 0, "the cached rebuild took " + took);
        System.out.println("cached rebuild of cli: " + took.toMillis() + " ms");
    }

    @Test
    @Order(3)
    void theImageRunsAsClaudeInTheWorkspaceWithNoSetuidProgram() {
        CageHarness.Result result = CageHarness.launch(List.of("run", "--network", "none", "--", "sh", "-c",
                "id -un; pwd; echo $HOME; find / -xdev -type f -perm /6000; "
                        + "for tool in git rg curl less ps perl; do command -v $tool; done"));
        assertEquals(0, result.exitCode(), result.toString());
        assertEquals("claude\n/workspace\n/home/claude\n/usr/bin/git\n/usr/bin/rg\n/usr/bin/curl\n/usr/bin/less\n"
                + "/usr/bin/ps\n/usr/bin/perl\n", result.stdout());
    }

    @Test
    @Order(4)
    void everyWallHoldsOnTheImage() {
        CageHarness.Result result = CageHarness.launch(List.of("verify", "--network", "none", "--memory", "256m"), "",
                Map.of(), Duration.ofMinutes(8));
        assertEquals(0, result.exitCode(), result.toString());
        assertTrue(result.stdout().contains("verify: every wall held"), result.toString());
    }
}
