package dev.claudecage.session;

import dev.claudecage.host.IdBlock;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;

class CleanupPlanTest {

    private static final Path RUN = Path.of("/run/claude-cage");
    private static final String DEAD = "s-dead-000000000001";
    private static final String LIVE = "s-live-000000000002";
    /** A cage that crashed after it took its ids and before it made anything else. */
    private static final String CRASHED_EARLY = "run-000000000003";
    private static final IdBlock DEAD_IDS = new IdBlock(1_879_048_192L, 1_879_048_192L);
    private static final IdBlock CRASHED_EARLY_IDS = new IdBlock(1_879_179_264L, 1_879_179_264L);

    private static HostLeftovers found() {
        return new HostLeftovers(
                List.of(new RuntimeContainer("runc", DEAD, 10, "running"), new RuntimeContainer("runc", LIVE, 11, "running")),
                List.of(RUN.resolve("runs/" + DEAD), RUN.resolve("runs/" + LIVE)),
                List.of(RUN.resolve("net/" + DEAD)),
                List.of(Path.of("/sys/fs/cgroup/memory/claude-cage/" + DEAD), Path.of("/sys/fs/cgroup/pids/claude-cage/" + DEAD),
                        Path.of("/sys/fs/cgroup/pids/claude-cage/" + LIVE)),
                List.of("claude-cage-" + DEAD, "claude-cage-" + LIVE),
                List.of(new HostLeftovers.Link("cgh0", "claude-cage-" + DEAD), new HostLeftovers.Link("cgh1", "claude-cage-" + LIVE),
                        new HostLeftovers.Link("cgh7", null), new HostLeftovers.Link("cgc7", null),
                        new HostLeftovers.Link("cgh9", "cagetest-peer")),
                List.of(new HostLeftovers.NftTable("inet", "claude_cage_cgh0"), new HostLeftovers.NftTable("inet", "claude_cage_cgh1"),
                        new HostLeftovers.NftTable("inet", "claude_cage_cgh7"), new HostLeftovers.NftTable("inet", "claude_cage_cgh5")),
                List.of(RUN.resolve("runs/" + DEAD + "/bundle/rootfs"), RUN.resolve("runs/" + LIVE + "/bundle/rootfs"),
                        RUN.resolve("runs/" + DEAD + "/bundle/rootfs/deeper"), RUN.resolve("odd")),
                Map.of(DEAD, DEAD_IDS, LIVE, new IdBlock(1_879_113_728L, 1_879_113_728L), CRASHED_EARLY, CRASHED_EARLY_IDS));
    }

    private static List<String> steps(Predicate<String> removable, boolean strays) {
        return CleanupPlan.plan(found(), removable, strays, RUN).stream().map(CleanupPlan.Step::describe).toList();
    }

    @Test
    void gcRemovesWhatNoLiveCageOwnsInOrder() {
        assertEquals(List.of(
                "container " + DEAD + " (runc)",
                "processes of cage " + DEAD,
                "network namespace claude-cage-" + DEAD,
                "nft table inet claude_cage_cgh0",
                "nft table inet claude_cage_cgh7",
                "nft table inet claude_cage_cgh5",
                "link cgh0",
                "link cgh7",
                "link cgc7",
                "mount /run/claude-cage/runs/" + DEAD + "/bundle/rootfs/deeper",
                "mount /run/claude-cage/runs/" + DEAD + "/bundle/rootfs",
                "mount /run/claude-cage/odd",
                "folder /run/claude-cage/runs/" + DEAD,
                "folder /run/claude-cage/net/" + DEAD,
                "cgroup /sys/fs/cgroup/memory/claude-cage/" + DEAD,
                "cgroup /sys/fs/cgroup/pids/claude-cage/" + DEAD,
                "id block of cage " + CRASHED_EARLY + " (" + CRASHED_EARLY_IDS + ")",
                "id block of cage " + DEAD + " (" + DEAD_IDS + ")"),
                steps(id -> !id.equals(LIVE), true));
    }

    @Test
    void destroyTouchesOnlyItsOwnCageAndNothingNameless() {
        List<String> steps = steps(Set.of(DEAD)::contains, false);
        assertEquals(List.of(
                "container " + DEAD + " (runc)",
                "processes of cage " + DEAD,
                "network namespace claude-cage-" + DEAD,
                "nft table inet claude_cage_cgh0",
                "link cgh0",
                "mount /run/claude-cage/runs/" + DEAD + "/bundle/rootfs/deeper",
                "mount /run/claude-cage/runs/" + DEAD + "/bundle/rootfs",
                "folder /run/claude-cage/runs/" + DEAD,
                "folder /run/claude-cage/net/" + DEAD,
                "cgroup /sys/fs/cgroup/memory/claude-cage/" + DEAD,
                "cgroup /sys/fs/cgroup/pids/claude-cage/" + DEAD,
                "id block of cage " + DEAD + " (" + DEAD_IDS + ")"), steps);
    }

    @Test
    void nothingIsRemovableMeansNoSteps() {
        assertEquals(List.of(), steps(id -> false, false));
    }

    @Test
    void namesAreReadBack() {
        assertEquals("s-a-b-0123456789ab", CleanupPlan.idOfNetns("claude-cage-s-a-b-0123456789ab").orElseThrow());
        assertEquals("cgh3", CleanupPlan.linkOfTable("claude_cage_cgh3"));
        assertEquals(null, CleanupPlan.linkOfTable("claude_cage"));
        assertEquals("x", CleanupPlan.idOfRunPath(RUN, RUN.resolve("net/x/resolv.conf")).orElseThrow());
        assertEquals("x", CleanupPlan.idOfRunPath(RUN, RUN.resolve("mounts/x/0")).orElseThrow());
        assertEquals(true, CleanupPlan.idOfRunPath(RUN, RUN.resolve("sessions/x")).isEmpty());
    }
}
