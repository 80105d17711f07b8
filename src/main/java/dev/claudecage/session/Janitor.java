package dev.claudecage.session;

import dev.claudecage.CageException;
import dev.claudecage.Teardown;
import dev.claudecage.host.Directories;
import dev.claudecage.host.FileLock;
import dev.claudecage.host.Host;
import dev.claudecage.host.IdBlock;
import dev.claudecage.process.CommandResult;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.runtime.Cage;
import dev.claudecage.runtime.Placeholders;
import dev.claudecage.runtime.RuntimeKind;
import dev.claudecage.runtime.StatePaths;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Finds what cages left on the host and removes it: scans ({@link HostLeftovers}), plans
 * ({@link CleanupPlan}) and carries the plan out, step by step, going on past a failed step and
 * reporting every one. Network steps run under the network lock, so a cage whose network is
 * being built at that moment is never mistaken for a leftover.
 */
public final class Janitor {

    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);
    private static final Pattern LINK_NETNS = Pattern.compile(" link-netns (\\S+)");
    private static final Pattern LINK_NETNSID = Pattern.compile(" link-netnsid (\\d+)");

    private final StatePaths statePaths;
    private final HostProbe probe;
    private final ProcessRunner runner;
    private final String launcherMainClass;

    /** Whether this user runs its cages rootless (see docs/rootless.md). */
    private final boolean rootless = Host.effectiveUid() != 0;

    /** @param launcherMainClass the main class of claude-cage's command line (see {@link #isOneShotLauncher}) */
    public Janitor(HostProbe probe, ProcessRunner runner, String launcherMainClass) {
        this.statePaths = probe.statePaths();
        this.probe = probe;
        this.runner = runner;
        this.launcherMainClass = launcherMainClass;
    }

    /** What was removed, what failed, and what was left because something may still use it. */
    public record Report(List<String> removed, List<String> failures, List<String> skipped) {
        public Report {
            removed = List.copyOf(removed);
            failures = List.copyOf(failures);
            skipped = List.copyOf(skipped);
        }

        public boolean clean() {
            return failures.isEmpty();
        }

        Report plus(Report other) {
            List<String> r = new ArrayList<>(removed);
            r.addAll(other.removed);
            List<String> f = new ArrayList<>(failures);
            f.addAll(other.failures);
            List<String> s = new ArrayList<>(skipped);
            s.addAll(other.skipped);
            return new Report(r, f, s);
        }

        static Report empty() {
            return new Report(List.of(), List.of(), List.of());
        }
    }

    /** The container id a session's cage gets: s-NAME-random. */
    public static String newContainerId(SessionName name) {
        return Cage.newId("s-" + name.value());
    }

    /** The session a container id belongs to, if it is a session's. */
    public static Optional<SessionName> sessionOf(String containerId) {
        Matcher matcher = Cage.SESSION_ID.matcher(containerId);
        return matcher.matches() && SessionName.isValid(matcher.group(1))
                ? Optional.of(SessionName.of(matcher.group(1))) : Optional.empty();
    }

    Path runRoot() {
        return statePaths.runs().getParent();
    }

    /** Removes every trace of the cages of one session (whose supervisor is known to be gone). */
    public Report removeSessionCages(SessionName name) {
        Predicate<String> removable = id -> sessionOf(id).map(name::equals).orElse(false);
        return carryOut(CleanupPlan.plan(scan(), removable, false, runRoot()));
    }

    /**
     * Removes whatever no live cage owns: cages of sessions without a live supervisor, cages of
     * one-shot runs whose runtime process has gone, and network state that names no cage.
     *
     * @param liveSessions sessions whose supervisor (or launcher) is alive
     */
    public Report collect(Set<SessionName> liveSessions) {
        HostLeftovers found = scan();
        Set<String> inUse = foregroundRuntimeArguments();
        boolean launcherRunning = oneShotLauncherRunning();
        List<String> skipped = new ArrayList<>();
        Predicate<String> removable = id -> {
            Optional<SessionName> session = sessionOf(id);
            if (session.isPresent()) {
                return !liveSessions.contains(session.get());
            }
            if (inUse.contains(id)) {
                return false;
            }
            if (launcherRunning) {
                if (!skipped.contains(id)) {
                    skipped.add(id);
                }
                return false;
            }
            return true;
        };
        List<CleanupPlan.Step> steps = CleanupPlan.plan(found, removable, true, runRoot());
        Report report = carryOut(steps);
        List<String> skippedWords = skipped.stream()
                .map(id -> "cage " + id + " (a 'claude-cage run' or 'verify' is running and may own it)").toList();
        return report.plus(new Report(List.of(), List.of(), skippedWords));
    }

    HostLeftovers scan() {
        // A cage's staged (shifted) mounts live beside its run folder and go the same way.
        List<Path> runDirs = new ArrayList<>(children(statePaths.runs()));
        runDirs.addAll(children(statePaths.stagedMounts("x").getParent()));
        if (rootless) {
            // A rootless user's cages have no cgroups, host links, nft tables or host-visible mounts:
            // their mounts and network live in their own namespaces and go with them.
            return new HostLeftovers(probe.containers(), runDirs,
                    children(statePaths.networkState("x").getParent()), List.of(), List.of(), List.of(), List.of(), List.of(),
                    Map.of());
        }
        return new HostLeftovers(probe.containers(), runDirs,
                children(statePaths.networkState("x").getParent()), probe.cageCgroups(), netns(), links(),
                nftTables(), mountsUnder(runRoot()), statePaths.idAllocations().recorded());
    }

    Report carryOut(List<CleanupPlan.Step> steps) {
        Teardown cleanup = new Teardown("cleanup", null);
        boolean network = steps.stream().anyMatch(step -> step instanceof CleanupPlan.DeleteNetns
                || step instanceof CleanupPlan.DeleteLink || step instanceof CleanupPlan.DeleteNftTable);
        if (network) {
            cleanup.push("release the lock on the cage network pool", FileLock.acquire(statePaths.networkLock(),
                    SessionStore.LOCK_TIMEOUT, "the cage network pool"));
        }
        List<String> removed = new ArrayList<>();
        for (CleanupPlan.Step step : steps) {
            if (cleanup.attempt(step.describe(), () -> apply(step))) {
                removed.add(step.describe());
            }
        }
        return new Report(removed, cleanup.undo(), List.of());
    }

    /** Carries out one step; something already gone is not a failure. */
    private void apply(CleanupPlan.Step step) throws IOException {
        if (step instanceof CleanupPlan.DeleteContainer delete) {
            Path root = statePaths.runtimeState().resolve(delete.runtime());
            String binary = RuntimeKind.fromConfig(delete.runtime()).binaryName();
            remove(probe.control().wrapFor(delete.pid(),
                    List.of(binary, "--root", root.toString(), "delete", "--force", delete.id())));
        } else if (step instanceof CleanupPlan.KillCgroup kill) {
            killCgroup(kill.id());
        } else if (step instanceof CleanupPlan.DeleteNetns netns) {
            killHelpersIn(netns.name());
            remove(List.of("ip", "netns", "delete", netns.name()));
        } else if (step instanceof CleanupPlan.DeleteNftTable table) {
            remove(List.of("nft", "delete", "table", table.family(), table.name()));
        } else if (step instanceof CleanupPlan.DeleteLink link) {
            remove(List.of("ip", "link", "delete", link.name()));
        } else if (step instanceof CleanupPlan.Unmount unmount) {
            CommandResult result = runner.runAllowingFailure(List.of("umount", unmount.mountPoint().toString()),
                    COMMAND_TIMEOUT);
            if (!result.succeededOrGone()) {
                // Busy: detach it now; the kernel lets go when its last user does.
                remove(List.of("umount", "--lazy", unmount.mountPoint().toString()));
            }
        } else if (step instanceof CleanupPlan.RemoveTree tree) {
            removeTree(tree.dir());
        } else if (step instanceof CleanupPlan.RemoveCgroup cgroup) {
            removeCgroup(cgroup.dir());
        } else if (step instanceof CleanupPlan.FreeIds free) {
            freeIds(free);
        } else {
            throw new IllegalArgumentException("unknown step " + step);
        }
    }

    /** Only when nothing runs as its ids: a later cage with the same block would share them. */
    private void freeIds(CleanupPlan.FreeIds free) {
        List<Long> users = processesWithin(free.block());
        if (!users.isEmpty()) {
            throw new CageException("processes still run as its ids: " + users);
        }
        statePaths.idAllocations().release(free.id());
    }

    private void remove(List<String> command) {
        runner.remove(command, COMMAND_TIMEOUT);
    }

    /** A cage's run folder: a cage that crashed leaves its workspace placeholders; its container is deleted by now. */
    private void removeTree(Path dir) {
        List<String> problems = new ArrayList<>(Placeholders.removeRecorded(dir.resolve(Placeholders.RECORD)));
        try {
            if (rootless) {
                // A rootless cage's folders hold its upper layer, whose files belong to subordinate ids.
                remove(probe.control().wrap(List.of("rm", "-rf", "--one-file-system", dir.toString())));
            } else {
                Directories.deleteRecursively(dir);
            }
        } catch (IOException | RuntimeException e) {
            problems.add(e.getMessage());
        }
        if (!problems.isEmpty()) {
            throw new CageException(String.join("; ", problems));
        }
    }

    /** Kills what runs in the cage's cgroups; a cgroup's processes cannot fork past its pids limit, so this ends. */
    private void killCgroup(String id) {
        for (int round = 0; round < 100; round++) {
            List<Long> pids = probe.cgroupProcesses(id);
            if (pids.isEmpty()) {
                return;
            }
            for (long pid : pids) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
            sleep(50);
        }
        throw new CageException("processes still running: " + probe.cgroupProcesses(id));
    }

    /**
     * Kills what still runs in the cage's network namespace once the cage is gone: the helpers
     * claude-cage started there (the drop logger's tcpdump, which gives up root by itself and with
     * it the parent-death signal that ends it with its supervisor), which would hold the namespace.
     * Processes are found by the namespace they are in, /proc/PID/ns/net against the named one.
     */
    private static void killHelpersIn(String netns) {
        Path named = Path.of("/run/netns", netns);
        String namespace;
        try {
            namespace = "net:[" + Files.getAttribute(named, "unix:ino") + "]";
        } catch (IOException e) {
            return;
        }
        for (int round = 0; round < 100; round++) {
            List<ProcessHandle> inside = ProcessHandle.allProcesses().filter(process -> namespace.equals(
                    netnsOf(process.pid()))).toList();
            if (inside.isEmpty()) {
                return;
            }
            inside.forEach(ProcessHandle::destroyForcibly);
            sleep(50);
        }
        throw new CageException("processes still running in " + netns);
    }

    private static String netnsOf(long pid) {
        try {
            return Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "ns", "net")).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    private static void removeCgroup(Path dir) throws IOException {
        for (int attempt = 0; ; attempt++) {
            try {
                Files.deleteIfExists(dir);
                return;
            } catch (IOException e) {
                if (attempt == 49) {
                    throw e;
                }
                sleep(50);
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The processes on the host with any of their uids or gids (real, effective, saved, file system) in {@code block}. */
    static List<Long> processesWithin(IdBlock block) {
        List<Long> found = new ArrayList<>();
        for (ProcessHandle process : ProcessHandle.allProcesses().toList()) {
            try {
                for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
                    boolean uids = line.startsWith("Uid:");
                    if ((uids || line.startsWith("Gid:")) && java.util.Arrays.stream(line.substring(4).trim().split("\\s+"))
                            .mapToLong(Long::parseLong).anyMatch(id -> uids ? block.holdsUid(id) : block.holdsGid(id))) {
                        found.add(process.pid());
                        break;
                    }
                }
            } catch (IOException | NumberFormatException gone) {
                // Ended while we looked.
            }
        }
        return found;
    }

    private static List<Path> children(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> children = Files.list(dir)) {
            return children.filter(child -> Files.isDirectory(child, LinkOption.NOFOLLOW_LINKS)).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private List<String> netns() {
        List<String> found = new ArrayList<>();
        for (String line : output(List.of("ip", "netns", "list"))) {
            String name = line.split(" ")[0];
            if (name.startsWith(HostLeftovers.NETNS_PREFIX)) {
                found.add(name);
            }
        }
        return found;
    }

    private List<HostLeftovers.Link> links() {
        List<HostLeftovers.Link> found = new ArrayList<>();
        for (String line : output(List.of("ip", "-o", "link", "show"))) {
            HostLeftovers.Link link = parseLink(line);
            if (link != null) {
                found.add(link);
            }
        }
        return found;
    }

    /** One line of {@code ip -o link show}, if it is a cage's veth end. */
    static HostLeftovers.Link parseLink(String line) {
        String[] parts = line.split(": ", 3);
        if (parts.length < 2) {
            return null;
        }
        String name = parts[1].split("@")[0];
        if (!name.matches("cg[hc]\\d+")) {
            return null;
        }
        Matcher netns = LINK_NETNS.matcher(line);
        if (netns.find()) {
            return new HostLeftovers.Link(name, netns.group(1));
        }
        // A peer in a namespace without a name: not one of ours (ours are always named).
        return new HostLeftovers.Link(name, LINK_NETNSID.matcher(line).find() ? "(unnamed)" : null);
    }

    private List<HostLeftovers.NftTable> nftTables() {
        List<HostLeftovers.NftTable> found = new ArrayList<>();
        for (String line : output(List.of("nft", "list", "tables"))) {
            String[] words = line.strip().split("\\s+");
            if (words.length == 3 && words[0].equals("table") && words[2].startsWith(HostLeftovers.NFT_PREFIX)) {
                found.add(new HostLeftovers.NftTable(words[1], words[2]));
            }
        }
        return found;
    }

    private List<String> output(List<String> command) {
        try {
            CommandResult result = runner.runAllowingFailure(command, COMMAND_TIMEOUT);
            return result.succeeded() ? result.stdout().lines().toList() : List.of();
        } catch (RuntimeException notInstalled) {
            return List.of();
        }
    }

    static List<Path> mountsUnder(Path root) {
        List<Path> found = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                Path mountPoint = Path.of(unescapeMountinfo(line.split(" ")[4]));
                if (mountPoint.startsWith(root) && !mountPoint.equals(root)) {
                    found.add(mountPoint);
                }
            }
        } catch (IOException e) {
            return found;
        }
        return found;
    }

    /** mountinfo writes space, tab, newline and backslash as octal escapes. */
    static String unescapeMountinfo(String field) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && i + 3 < field.length()
                    && field.substring(i + 1, i + 4).chars().allMatch(d -> d >= '0' && d <= '7')) {
                out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /**
     * Every argument of every live runtime process that works under our state root ({@code run}
     * in the foreground, {@code exec} for a shell): the containers they name are in use.
     */
    Set<String> foregroundRuntimeArguments() {
        Set<String> arguments = new HashSet<>();
        String root = statePaths.runtimeState().toString();
        for (List<String> commandLine : processCommandLines()) {
            int rootFlag = commandLine.indexOf("--root");
            if (rootFlag >= 0 && rootFlag + 1 < commandLine.size() && commandLine.get(rootFlag + 1).startsWith(root)
                    && (commandLine.contains("run") || commandLine.contains("exec"))) {
                arguments.addAll(commandLine);
            }
        }
        return arguments;
    }

    /** Whether a {@code claude-cage run} or {@code verify} launcher is running: it may own a cage being prepared. */
    boolean oneShotLauncherRunning() {
        long self = ProcessHandle.current().pid();
        for (ProcessHandle process : ProcessHandle.allProcesses().toList()) {
            // A rootless user's cages can only be its own launchers'.
            if (process.pid() == self || rootless && !ProcessIdentity.ownedByThisUser(process.pid())) {
                continue;
            }
            List<String> commandLine = ProcessIdentity.commandLine(process.pid());
            if (isOneShotLauncher(commandLine, launcherMainClass)) {
                return true;
            }
        }
        return false;
    }

    /** Whether a command line is claude-cage's (its jar, or its main class on a class path) running run or verify. */
    static boolean isOneShotLauncher(List<String> commandLine, String launcherMainClass) {
        for (int i = 0; i + 1 < commandLine.size(); i++) {
            String arg = commandLine.get(i);
            boolean ourJar = arg.endsWith("claude-cage.jar") || arg.equals(launcherMainClass);
            if (ourJar) {
                String subcommand = commandLine.get(i + 1);
                return subcommand.equals("run") || subcommand.equals("verify");
            }
        }
        return false;
    }

    private static List<List<String>> processCommandLines() {
        return ProcessHandle.allProcesses().map(process -> ProcessIdentity.commandLine(process.pid()))
                .filter(line -> !line.isEmpty()).toList();
    }
}
