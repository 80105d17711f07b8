package dev.claudecage.session;

import com.fasterxml.jackson.databind.JsonNode;
import dev.claudecage.json.Json;
import dev.claudecage.process.CommandResult;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.rootless.RuntimeControl;
import dev.claudecage.runtime.RuntimeKind;
import dev.claudecage.runtime.StatePaths;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Reads what is really there: containers under our runtime state root (from the runtime's state
 * files, through the runtime's own {@code list} where those cannot be read), the cage cgroups and the processes in them, the boot id, and whether a supervisor
 * is alive. Commands compare this with the records, so that a crash never leaves a record lying.
 */
public class HostProbe {

    public static final Path CGROUP_ROOT = Path.of("/sys/fs/cgroup");
    public static final String CGROUP_PARENT = "claude-cage";
    private static final Duration LIST_TIMEOUT = Duration.ofSeconds(30);
    private static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id");

    private final StatePaths paths;
    private final ProcessRunner runner;
    private final RuntimeControl control;

    public HostProbe(StatePaths paths, ProcessRunner runner) {
        this.paths = paths;
        this.runner = runner;
        this.control = RuntimeControl.forCurrentUser(runner);
    }

    /** Where runtime commands about existing cages run (rootless: in a cage's user namespace). */
    public RuntimeControl control() {
        return control;
    }

    public StatePaths statePaths() {
        return paths;
    }

    /** Every container under our state roots, for each runtime that has one. */
    public List<RuntimeContainer> containers() {
        List<RuntimeContainer> found = new ArrayList<>();
        for (RuntimeKind kind : RuntimeKind.values()) {
            Path root = paths.runtimeState().resolve(kind.configName());
            if (!Files.isDirectory(root) || isEmpty(root)) {
                continue;
            }
            RuntimeStates.Found read = RuntimeStates.all(kind, root);
            found.addAll(read.unknownFormat() ? listedByRuntime(kind, root) : read.containers());
        }
        return found;
    }

    /** The container {@code id}, read from its own state only (a status needs no other). */
    public Optional<RuntimeContainer> container(String id) {
        for (RuntimeKind kind : RuntimeKind.values()) {
            Optional<RuntimeContainer> match = container(kind, id);
            if (match.isPresent()) {
                return match;
            }
        }
        return Optional.empty();
    }

    /**
     * The container {@code id} under the state root of runtime {@code kind} only: for a caller that
     * knows the cage's runtime. Asking every runtime starts {@code runsc list} (about 50 ms) wherever
     * gVisor has a state root, each time a runc cage is not there (yet, or any more).
     */
    public Optional<RuntimeContainer> container(RuntimeKind kind, String id) {
        Path root = paths.runtimeState().resolve(kind.configName());
        RuntimeStates.Found read = RuntimeStates.one(kind, root, id);
        List<RuntimeContainer> candidates = read.unknownFormat() ? listedByRuntime(kind, root) : read.containers();
        for (RuntimeContainer candidate : candidates) {
            if (candidate.id().equals(id)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** The runtime's own {@code list}: where its state files are not readable here or not in a format known to us. */
    private List<RuntimeContainer> listedByRuntime(RuntimeKind kind, Path root) {
        CommandResult result;
        try {
            result = runner.runAllowingFailure(control.wrap(
                    List.of(kind.binaryName(), "--root", root.toString(), "list", "--format", "json")), LIST_TIMEOUT);
        } catch (RuntimeException notInstalled) {
            return List.of();
        }
        return result.succeeded() ? parseList(kind.configName(), result.stdout()) : List.of();
    }

    static List<RuntimeContainer> parseList(String runtime, String json) {
        List<RuntimeContainer> containers = new ArrayList<>();
        JsonNode root;
        try {
            root = Json.mapper().readTree(json.isBlank() ? "null" : json);
        } catch (IOException e) {
            return containers;
        }
        if (root == null || !root.isArray()) {
            return containers;
        }
        for (JsonNode node : root) {
            containers.add(new RuntimeContainer(runtime, node.path("id").asText(), node.path("pid").asLong(0),
                    node.path("status").asText("unknown")));
        }
        return containers;
    }

    /** The container ids that have a cgroup under /sys/fs/cgroup/(controller/)claude-cage. */
    public List<Path> cageCgroups() {
        List<Path> found = new ArrayList<>();
        List<Path> parents = new ArrayList<>();
        parents.add(CGROUP_ROOT.resolve(CGROUP_PARENT));
        try (Stream<Path> controllers = Files.list(CGROUP_ROOT)) {
            controllers.filter(Files::isDirectory).forEach(controller -> parents.add(controller.resolve(CGROUP_PARENT)));
        } catch (IOException e) {
            return found;
        }
        for (Path parent : parents) {
            if (!Files.isDirectory(parent)) {
                continue;
            }
            try (Stream<Path> children = Files.list(parent)) {
                children.filter(Files::isDirectory).forEach(found::add);
            } catch (IOException e) {
                // A cgroup removed while we looked.
            }
        }
        return found;
    }

    /** The processes in the cage's cgroups (any controller), empty when there are none. */
    public List<Long> cgroupProcesses(String containerId) {
        List<Long> pids = new ArrayList<>();
        for (Path cgroup : cageCgroups()) {
            if (!cgroup.getFileName().toString().equals(containerId)) {
                continue;
            }
            pids.addAll(readPids(cgroup.resolve("cgroup.procs")));
            if (!pids.isEmpty()) {
                return pids;
            }
        }
        return pids;
    }

    static List<Long> readPids(Path procs) {
        try {
            return Files.readAllLines(procs).stream().map(String::strip).filter(line -> !line.isEmpty())
                    .map(Long::parseLong).toList();
        } catch (IOException | NumberFormatException e) {
            return List.of();
        }
    }

    public String bootId() {
        try {
            return Files.readString(BOOT_ID).strip();
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** Whether {@code identity} is alive and is the supervisor of {@code name}, by its command line. */
    public boolean isSupervisor(ProcessIdentity identity, SessionName name) {
        if (identity == null || !identity.isAlive()) {
            return false;
        }
        return isSupervisorCommand(identity.commandLine(), name);
    }

    static boolean isSupervisorCommand(List<String> commandLine, SessionName name) {
        int main = commandLine.indexOf(SupervisorMain.class.getName());
        return main >= 0 && main + 1 < commandLine.size() && commandLine.get(main + 1).equals(name.value());
    }

    // No stream's findAny/findFirst on list's and status's path (here, container(kind, id), Reconciler.view): the
    // JDK spins their two lambdas at run time, the archive does not keep them (about 3 ms of a call).
    private static boolean isEmpty(Path dir) {
        try (DirectoryStream<Path> children = Files.newDirectoryStream(dir)) {
            return !children.iterator().hasNext();
        } catch (IOException e) {
            return true;
        }
    }
}
