package dev.claudecage.identity;

import dev.claudecage.CageException;
import dev.claudecage.host.LinuxSyscalls;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.rootless.UnshareHolder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A cage's own user namespace, mapped by an {@link IdShift}, with a network namespace it owns, made
 * ahead of the cage so that a filtered cage's network can be built in it: held by a long-lived
 * {@code unshare --user --net cat}, whose maps this process, root, writes (root may map any ids, so
 * no subordinate ids are needed). The cage joins both by the holder's pid. Its stdin is a pipe only
 * this process holds: it ends with this process however that ends.
 * <p>
 * {@link #start} returns at once; {@link #descriptor} waits for the namespace and maps it.
 */
public final class UsernsHolder implements AutoCloseable {

    private static final Duration SETUP_TIMEOUT = Duration.ofSeconds(10);

    private final IdShift shift;
    private final Process process;
    private int descriptor = -1;

    private UsernsHolder(IdShift shift, Process process) {
        this.shift = shift;
        this.process = process;
    }

    public static UsernsHolder start(IdShift shift, ProcessRunner runner) {
        return new UsernsHolder(shift, runner.startTethered(List.of("unshare", "--user", "--net", "--", "cat")));
    }

    /** The holder's pid: its namespaces are under /proc/PID/ns while it runs. */
    public long pid() {
        return process.pid();
    }

    public IdShift shift() {
        return shift;
    }

    /** The namespace, mapped, as a descriptor this holder owns; waits for the process the first time. */
    public synchronized int descriptor() {
        if (descriptor >= 0) {
            return descriptor;
        }
        Path proc = Path.of("/proc", Long.toString(process.pid()));
        UnshareHolder.awaitUnshared(process, SETUP_TIMEOUT, "a user namespace to shift mounts with",
                "the kernel must allow user namespaces (/proc/sys/user/max_user_namespaces); "
                        + "claude-cage doctor says what this host lacks");
        try {
            Files.writeString(proc.resolve("uid_map"), IdShift.mapFile(shift.uids()));
            Files.writeString(proc.resolve("gid_map"), IdShift.mapFile(shift.gids()));
        } catch (IOException e) {
            throw new CageException("cannot write the id map of a shifting user namespace (" + proc + "): " + e.getMessage());
        }
        int fd = LinuxSyscalls.get().open(proc.resolve("ns/user").toString(), LinuxSyscalls.O_RDONLY | LinuxSyscalls.O_CLOEXEC);
        if (fd < 0) {
            throw new CageException(LinuxSyscalls.error("cannot open " + proc.resolve("ns/user")));
        }
        descriptor = fd;
        return fd;
    }

    /** Closes the descriptor and ends the process; the mounts made with it keep its namespace. */
    @Override
    public synchronized void close() {
        if (descriptor >= 0) {
            LinuxSyscalls.get().close(descriptor);
            descriptor = -1;
        }
        process.destroyForcibly();
    }
}
