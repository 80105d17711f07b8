package dev.claudecage.session;

import dev.claudecage.host.IdBlock;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * What to remove, decided from what is there: a pure function from {@link HostLeftovers} and a
 * rule for which cages may go to an ordered list of steps. Containers first (the runtime stops
 * their processes), then any process left in their cgroups, then their network, then mounts
 * (deepest first), folders, the emptied cgroups, and last the blocks of host ids the cages held,
 * once nothing of them can run.
 */
final class CleanupPlan {

    sealed interface Step permits DeleteContainer, KillCgroup, DeleteNetns, DeleteNftTable, DeleteLink, Unmount,
            RemoveTree, RemoveCgroup, FreeIds {
        String describe();
    }

    /** @param pid the container's init process, 0 when it runs none (rootless deletion enters its namespace) */
    record DeleteContainer(String runtime, String id, long pid) implements Step {
        public String describe() {
            return "container " + id + " (" + runtime + ")";
        }
    }

    record KillCgroup(String id) implements Step {
        public String describe() {
            return "processes of cage " + id;
        }
    }

    record DeleteNetns(String name) implements Step {
        public String describe() {
            return "network namespace " + name;
        }
    }

    record DeleteNftTable(String family, String name) implements Step {
        public String describe() {
            return "nft table " + family + " " + name;
        }
    }

    record DeleteLink(String name) implements Step {
        public String describe() {
            return "link " + name;
        }
    }

    record Unmount(Path mountPoint) implements Step {
        public String describe() {
            return "mount " + mountPoint;
        }
    }

    record RemoveTree(Path dir) implements Step {
        public String describe() {
            return "folder " + dir;
        }
    }

    record RemoveCgroup(Path dir) implements Step {
        public String describe() {
            return "cgroup " + dir;
        }
    }

    record FreeIds(String id, IdBlock block) implements Step {
        public String describe() {
            return "id block of cage " + id + " (" + block + ")";
        }
    }

    private CleanupPlan() {
    }

    /**
     * @param removable which cage ids may be removed (not live, and in scope)
     * @param strays    whether to remove what names no cage at all (links whose peer is in no cage
     *                  namespace, tables of such links, unknown mounts under the run root): gc does, destroy does not
     * @param runRoot   /run/claude-cage, under which mounts name their cage by folder
     */
    static List<Step> plan(HostLeftovers found, Predicate<String> removable, boolean strays, Path runRoot) {
        List<Step> steps = new ArrayList<>();
        for (RuntimeContainer container : found.containers()) {
            if (removable.test(container.id())) {
                steps.add(new DeleteContainer(container.runtime(), container.id(), container.pid()));
            }
        }
        Set<String> killed = new LinkedHashSet<>();
        for (Path cgroup : found.cgroups()) {
            String id = cgroup.getFileName().toString();
            if (removable.test(id) && killed.add(id)) {
                steps.add(new KillCgroup(id));
            }
        }
        Set<String> removedLinks = new LinkedHashSet<>();
        Set<String> keptLinks = new LinkedHashSet<>();
        for (HostLeftovers.Link link : found.links()) {
            Optional<String> owner = idOfNetns(link.peerNetns());
            boolean remove = owner.map(removable::test).orElse(strays && !isForeignNetns(link.peerNetns()));
            (remove ? removedLinks : keptLinks).add(link.name());
        }
        for (String netns : found.netns()) {
            idOfNetns(netns).filter(removable).ifPresent(id -> steps.add(new DeleteNetns(netns)));
        }
        for (HostLeftovers.NftTable table : found.nftTables()) {
            String link = linkOfTable(table.name());
            boolean remove = link == null ? strays
                    : removedLinks.contains(link) || (strays && !keptLinks.contains(link));
            if (remove) {
                steps.add(new DeleteNftTable(table.family(), table.name()));
            }
        }
        for (String link : removedLinks) {
            steps.add(new DeleteLink(link));
        }
        List<Path> mounts = new ArrayList<>();
        for (Path mount : found.mounts()) {
            Optional<String> owner = idOfRunPath(runRoot, mount);
            if (owner.map(removable::test).orElse(strays)) {
                mounts.add(mount);
            }
        }
        mounts.sort(Comparator.comparingInt(Path::getNameCount).reversed().thenComparing(Comparator.reverseOrder()));
        mounts.forEach(mount -> steps.add(new Unmount(mount)));
        for (Path dir : found.runDirs()) {
            if (removable.test(dir.getFileName().toString())) {
                steps.add(new RemoveTree(dir));
            }
        }
        for (Path dir : found.netDirs()) {
            if (removable.test(dir.getFileName().toString())) {
                steps.add(new RemoveTree(dir));
            }
        }
        List<Path> cgroups = new ArrayList<>(found.cgroups().stream()
                .filter(cgroup -> removable.test(cgroup.getFileName().toString())).toList());
        cgroups.sort(Comparator.comparingInt(Path::getNameCount).reversed().thenComparing(Comparator.naturalOrder()));
        cgroups.forEach(cgroup -> steps.add(new RemoveCgroup(cgroup)));
        found.idBlocks().entrySet().stream().filter(entry -> removable.test(entry.getKey()))
                .sorted(Map.Entry.comparingByKey())
                .forEach(entry -> steps.add(new FreeIds(entry.getKey(), entry.getValue())));
        return steps;
    }

    /** The cage id in a namespace name like claude-cage-ID, if it is one of ours. */
    static Optional<String> idOfNetns(String netns) {
        if (netns == null || !netns.startsWith(HostLeftovers.NETNS_PREFIX)
                || netns.length() == HostLeftovers.NETNS_PREFIX.length()) {
            return Optional.empty();
        }
        return Optional.of(netns.substring(HostLeftovers.NETNS_PREFIX.length()));
    }

    /** A peer in a namespace that is not ours (a test's, a user's): never touched. */
    private static boolean isForeignNetns(String netns) {
        return netns != null && !netns.startsWith(HostLeftovers.NETNS_PREFIX);
    }

    /** The link a host table belongs to: claude_cage_cgh3 belongs to cgh3; the bare prefix to none. */
    static String linkOfTable(String table) {
        String prefix = HostLeftovers.NFT_PREFIX + "_";
        return table.startsWith(prefix) && table.length() > prefix.length() ? table.substring(prefix.length()) : null;
    }

    /** The cage a path under the run root belongs to: runs/ID/..., net/ID/..., mounts/ID/... (its shifted mounts) */
    static Optional<String> idOfRunPath(Path runRoot, Path path) {
        if (!path.startsWith(runRoot)) {
            return Optional.empty();
        }
        Path relative = runRoot.relativize(path);
        if (relative.getNameCount() >= 2 && Set.of("runs", "net", "mounts").contains(relative.getName(0).toString())) {
            return Optional.of(relative.getName(1).toString());
        }
        return Optional.empty();
    }
}
