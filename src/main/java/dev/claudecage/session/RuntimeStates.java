package dev.claudecage.session;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.claudecage.json.Json;
import dev.claudecage.runtime.RuntimeKind;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The containers under a runtime's state root, read from the state files the runtime keeps there,
 * the way the runtime's own {@code list} and {@code state} find them, without starting the runtime
 * (a {@code runc list} of 20 cages took about 45 ms). A container's init process is alive when a
 * process with its pid and start time (field 22 of /proc/PID/stat) exists and is not a zombie;
 * it is "created" while the runtime's {@code exec.fifo} is still there, "running" after, and
 * "stopped" when its process is gone. (Paused is not told from running: claude-cage never pauses
 * a cage, and both count as running.)
 *
 * <p>The state root is root's (or the rootless user's), mode 0700, never writable by a cage; it is
 * read defensively all the same: no link followed, a bounded file, unknown fields skipped. A state
 * file that exists but does not read as the format known here (another runtime version, say)
 * makes the caller ask the runtime's own {@code list}.
 */
final class RuntimeStates {

    /** More than any state file a runtime writes (runc's, which holds the whole config, is about 30 KB). */
    private static final int MAX_STATE_BYTES = 1 << 20;
    /** The fifo a runtime's {@code create} leaves and its {@code start} removes. */
    private static final String EXEC_FIFO = "exec.fifo";
    /** What runsc names the lock file of a container's state: ID_sandbox:ID.lock. */
    private static final String RUNSC_LOCK_SUFFIX = ".lock";

    /** What reading a state root found: its containers, or that it holds what this reader cannot read. */
    record Found(List<RuntimeContainer> containers, boolean unknownFormat) {
    }

    private RuntimeStates() {
    }

    /** Every container under {@code root}, the state root of runtime {@code kind}. */
    static Found all(RuntimeKind kind, Path root) {
        if (listedByRunscOnly(kind, root)) {
            return new Found(List.of(), true);
        }
        List<RuntimeContainer> containers = new ArrayList<>();
        try (Stream<Path> children = Files.list(root)) {
            for (Path dir : (Iterable<Path>) children::iterator) {
                Optional<InitProcess> init = read(kind, dir);
                if (init.isEmpty()) {
                    continue;
                }
                if (init.get() == InitProcess.UNKNOWN) {
                    return new Found(List.of(), true);
                }
                containers.add(container(kind, dir, init.get()));
            }
        } catch (NoSuchFileException e) {
            return new Found(List.of(), false);
        } catch (IOException e) {
            // Not readable here (rootless, the root belongs to a subordinate id): the runtime knows.
            return new Found(List.of(), true);
        }
        return new Found(containers, false);
    }

    /** The container {@code id} under {@code root}: none when it has no state there. */
    static Found one(RuntimeKind kind, Path root, String id) {
        if (id.isEmpty() || id.contains("/") || id.equals(".") || id.equals("..")) {
            return new Found(List.of(), false);
        }
        if (listedByRunscOnly(kind, root)) {
            return new Found(List.of(), true);
        }
        Path dir = root.resolve(id);
        Optional<InitProcess> init = read(kind, dir);
        if (init.isEmpty()) {
            return new Found(List.of(), false);
        }
        if (init.get() == InitProcess.UNKNOWN) {
            return new Found(List.of(), true);
        }
        return new Found(List.of(container(kind, dir, init.get())), false);
    }

    /**
     * runsc keeps no folder per container but files of its own format beside each other
     * ({@code ID_sandbox:ID.state}): only its own {@code list} reads them. A root that holds nothing
     * but lock files has no container, though: runsc lists a container by its {@code .state} file
     * alone, and leaves the {@code .lock} file beside it when it deletes the container (seen with
     * runsc 20221219), so once any runsc cage has run, asking it there (a process, about 50 ms, and
     * a JSON tree for its answer) would find nothing on every list.
     */
    private static boolean listedByRunscOnly(RuntimeKind kind, Path root) {
        return kind == RuntimeKind.RUNSC && Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS) && !onlyLocks(root);
    }

    /** Whether every entry of {@code dir} is a regular file named *.lock; false when it cannot be read. */
    private static boolean onlyLocks(Path dir) {
        try (DirectoryStream<Path> children = Files.newDirectoryStream(dir)) {
            for (Path child : children) {
                if (!child.getFileName().toString().endsWith(RUNSC_LOCK_SUFFIX)
                        || !Files.isRegularFile(child, LinkOption.NOFOLLOW_LINKS)) {
                    return false;
                }
            }
            return true;
        } catch (IOException | DirectoryIteratorException e) {
            return false;
        }
    }

    /** A container's init process as its state file records it; {@link #UNKNOWN} for a file not read as expected. */
    record InitProcess(long pid, long startTicks) {
        static final InitProcess UNKNOWN = new InitProcess(-1, -1);
    }

    /** A container's state file: runc's {@code state.json}, crun's {@code status}. */
    static Path stateFile(RuntimeKind kind, Path dir) {
        return dir.resolve(kind == RuntimeKind.CRUN ? "status" : "state.json");
    }

    /** Its status as the runtime decides it: stopped when the init process is gone, created until it is started, running after. */
    static RuntimeContainer container(RuntimeKind kind, Path dir, InitProcess init) {
        String status;
        if (init.pid() <= 0 || !new ProcessIdentity(init.pid(), init.startTicks()).isAlive()) {
            status = "stopped";
        } else if (Files.exists(dir.resolve(EXEC_FIFO), LinkOption.NOFOLLOW_LINKS)) {
            status = "created";
        } else {
            status = "running";
        }
        return new RuntimeContainer(kind.configName(), dir.getFileName().toString(),
                "stopped".equals(status) ? 0 : init.pid(), status);
    }

    private static Optional<InitProcess> read(RuntimeKind kind, Path dir) {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        byte[] bytes;
        try (InputStream in = Files.newInputStream(stateFile(kind, dir), StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            bytes = in.readNBytes(MAX_STATE_BYTES + 1);
        } catch (NoSuchFileException e) {
            // Being created or deleted: the runtime's own list skips it too.
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of(InitProcess.UNKNOWN);
        }
        return Optional.of(bytes.length > MAX_STATE_BYTES ? InitProcess.UNKNOWN : parse(kind, bytes));
    }

    /** The init process's pid and start time from a state file, or {@link InitProcess#UNKNOWN}. */
    static InitProcess parse(RuntimeKind kind, byte[] state) {
        String pidField = kind == RuntimeKind.CRUN ? "pid" : "init_process_pid";
        String startField = kind == RuntimeKind.CRUN ? "process-start-time" : "init_process_start";
        long pid = -1;
        long start = -1;
        // Streamed, top-level fields only: runc writes them before its 30 KB of config, which is not read.
        try (JsonParser parser = Json.factory().createParser(state)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return InitProcess.UNKNOWN;
            }
            while ((pid < 0 || start < 0) && parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                JsonToken value = parser.nextToken();
                if (field.equals(pidField) && value == JsonToken.VALUE_NUMBER_INT) {
                    pid = parser.getLongValue();
                } else if (field.equals(startField) && value == JsonToken.VALUE_NUMBER_INT) {
                    start = parser.getLongValue();
                } else {
                    parser.skipChildren();
                }
            }
        } catch (IOException e) {
            return InitProcess.UNKNOWN;
        }
        return pid < 0 || start < 0 ? InitProcess.UNKNOWN : new InitProcess(pid, start);
    }
}
