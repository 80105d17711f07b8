package dev.claudecage.runtime;

import dev.claudecage.config.NetworkMode;
import dev.claudecage.oci.Spec;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Stream;

/**
 * What runsc (gVisor) needs beyond the command line and config.json that runc and crun take. The
 * cage's spec is the one {@link dev.claudecage.oci.SpecBuilder} makes for every runtime; {@link #adapt}
 * changes only what gVisor reads differently, and says why at each change. The cage's user namespace
 * is not one of them: it stays as the spec builder makes it, fresh and mapped onto the cage's own
 * ids, which runsc makes for its file server; claude-cage never gives runsc one to join by its path
 * (runsc 20221219 cannot: {@link CageInstance}).
 */
final class Runsc {

    /** gVisor 20221219 has no clone3: its sentry answers ENOSYS, as the profile's own rule means to. */
    private static final List<String> UNIMPLEMENTED_IN_GVISOR = List.of("clone3");
    private static final int ENOSYS = 38;
    /**
     * Calls gVisor's seccomp knows by another name, and skips (with a warning in its log) under the
     * kernel's: an allowed pselect6 would be refused, and with it glibc's select() and every
     * connect with a timeout.
     */
    private static final Map<String, String> GVISOR_NAMES = Map.of("pselect6", "pselect");
    /** Of the masked paths runc's default spec names, those gVisor's /proc and /sys show (runsc 20221219): directories. */
    private static final Set<String> MASKED_DIRECTORIES_IN_GVISOR = Set.of("/sys/firmware");
    /** Which argument of each call holds the mode, whose file type says whether a device node is made. */
    private static final Map<String, Integer> MKNOD_MODE_ARGUMENT = Map.of("mknod", 1, "mknodat", 2);
    private static final long S_IFMT = 0170000;
    /** Regular (also as 0), FIFO and socket: what mknod(2) makes without CAP_MKNOD. */
    private static final List<Integer> FILE_TYPES_WITHOUT_CAP_MKNOD = List.of(0, 0100000, 0010000, 0140000);

    private Runsc() {
    }

    /**
     * Started through {@link #launcher} with gVisor's own network stack: hides
     * {@code /proc/sys/net/core}, which runsc 20221219 takes as the sign of the host's root network
     * namespace and therefore refuses to copy (kernels since about 6.11 show it in every namespace;
     * gVisor issue 10704, fixed after that release). runsc looks there after joining the cage's
     * network namespace; the mount is made from inside that namespace, whose directory it covers
     * (a /proc/sys/net directory is each namespace's own), in a mount namespace of runsc's own:
     * nothing else sees it, and runsc and its sandbox read nothing else there. Only the mount runs
     * in the cage's network namespace ({@code $1}); runsc itself stays in the host's, where it binds
     * its control socket, an abstract one ({@code @runsc-sandbox.ID}) that exists only in the
     * network namespace it was bound in: from the cage's, every later {@code runsc state}, {@code list},
     * {@code kill} in the host's found no sandbox and took the running cage for stopped (pid -1), and
     * a session never saw its cage run. A proc, not a tmpfs: runsc's file server, in the cage's user
     * namespace ({@link CageIdentity#stageForTheFileServer}), mounts a /proc of its own, which the
     * kernel allows only where a proc is fully visible, no file of it covered; a tmpfs over part of
     * /proc left none such, a proc mounted there is one (and has no rmem_default at that path).
     */
    private static final String HIDE_ROOT_NAMESPACE_MARK =
            "nsenter --net=\"$1\" mount -t proc -o ro,nosuid,nodev,noexec claude-cage-runsc /proc/sys/net/core"
                    + " && shift && exec \"$@\"";

    /**
     * The options of {@code runsc run} for a cage with {@code spec} on {@code platform}, and the
     * command that starts it.
     * <ul>
     * <li>{@code --oci-seccomp}: without it runsc ignores the spec's seccomp filter; with it the sentry
     * applies the filter to the cage's calls, so the same syscall wall stands inside gVisor's kernel
     * as in front of the host's under runc.</li>
     * <li>{@code --network}: see {@link #network}; {@link #launcher} for gVisor's own stack.</li>
     * </ul>
     */
    static OciRuntime.RunOptions runOptions(String platform, Spec spec) {
        String network = network(spec);
        return new OciRuntime.RunOptions(network.equals("sandbox") ? launcher(preparedNamespace(spec)) : List.of(),
                List.of("--platform=" + platform, "--network=" + network, "--oci-seccomp"));
    }

    /**
     * Why a cage on {@code network} cannot run under runsc, or null when it can. The host's network
     * ({@code host}) is reachable only through the host's stack, {@code runsc --network=host}
     * (gVisor's own stack would take over the host's interfaces), and there runsc 20221219 breaks
     * ordinary clients, in its sentry, past any flag or spec: its read() and write()
     * (pkg/sentry/syscalls/linux/sys_read_write.go) block only on the sentry's own "would block" error
     * ({@code err != linuxerr.ErrWouldBlock}), while a host socket (pkg/sentry/socket/hostinet,
     * Socket.Read through hostfd.Preadv2) returns the host's unix.EAGAIN, so a blocking read on a TCP
     * socket with no data yet fails at once with EAGAIN (seen: {@code head} on bash's /dev/tcp against
     * a loopback server answering after a second); and a recvfrom() that asks for the sender (perl's
     * recv) of a connected TCP socket panics the sentry (hostinet/socket.go:579, an empty address
     * unmarshalled), ending the cage. gVisor fixed both in release-20230214.0 (commit 753fb9ac5). A
     * gateway elsewhere was not tried under gVisor.
     */
    static String unsupportedNetwork(NetworkMode network, boolean gatewayElsewhere) {
        if (network == NetworkMode.HOST) {
            return "network 'host' cannot work under runsc (gVisor 20221219): through the host's network stack, "
                    + "gVisor's read() and write() on a TCP socket answer EAGAIN instead of waiting for data, and a "
                    + "recvfrom() asking for the sender ends the whole sandbox (both fixed in gVisor release-20230214.0)";
        }
        return gatewayElsewhere ? "network 'gateway:ADDRESS' was not tried under runsc (gVisor) yet" : null;
    }

    /**
     * gVisor's network for the cage's network namespace. A namespace claude-cage prepared (filtered)
     * is used through gVisor's own stack ({@code sandbox}): it copies the namespace's interface,
     * addresses and routes and sends through a packet socket on the cage's veth. Such packets pass
     * no output chain in the namespace, so the cage's table holds them on the link itself (an egress
     * chain, {@link dev.claudecage.net.cage.Firewall}), and the host's table on the other end, as
     * under runc. (The host's stack, {@code host}, would keep the output chain in the path but
     * answers EAGAIN to blocking reads: {@link #unsupportedNetwork}.) A fresh namespace
     * ({@code network: none}) is gVisor's loopback alone ({@code none}); no namespace in the spec is
     * the host's ({@code host}), refused before it gets here.
     */
    static String network(Spec spec) {
        return spec.linux().namespaces().stream().filter(namespace -> namespace.type().equals("network"))
                .findFirst().map(namespace -> namespace.path() == null ? "none" : "sandbox").orElse("host");
    }

    private static String preparedNamespace(Spec spec) {
        return spec.linux().namespaces().stream().filter(namespace -> namespace.type().equals("network"))
                .map(Spec.Namespace::path).findFirst().orElseThrow();
    }

    /** Makes runsc a mount namespace of its own, hides the mark there as the cage's network namespace shows it, runs runsc. */
    private static List<String> launcher(String networkNamespace) {
        // slave: mounts the host makes later (a session's workspace) still reach runsc's file server.
        return List.of("unshare", "--mount", "--propagation", "slave", "sh", "-c", HIDE_ROOT_NAMESPACE_MARK,
                "runsc-launcher", networkNamespace);
    }

    /**
     * The spec as runsc must get it: its seccomp filter as gVisor reads it, and what runc does from the
     * spec that gVisor does not (masked and read-only paths, CAP_MKNOD) made up for in it.
     */
    static Spec adapt(Spec spec) {
        return withoutDeviceNodes(withKernelPathsWalled(withSeccompAsGvisorReadsIt(spec)));
    }

    /**
     * The seccomp filter as gVisor must get it. gVisor's seccomp ignores a rule's {@code errnoRet} and answers
     * EPERM: the profile's "clone3 answers ENOSYS" rule (so that glibc falls back to clone, whose
     * flags the filter can read) would answer EPERM, and every thread and posix_spawn would fail.
     * gVisor does not implement clone3 at all, so letting that call through to the sentry gets the
     * ENOSYS the rule means; the probe {@code clone3-enosys} checks that it still does. And a call
     * gVisor names differently ({@link #GVISOR_NAMES}) gets its gVisor name beside the kernel's.
     */
    private static Spec withSeccompAsGvisorReadsIt(Spec spec) {
        Spec.Seccomp seccomp = spec.linux().seccomp();
        if (seccomp == null) {
            return spec;
        }
        List<Spec.SeccompSyscall> rules = new ArrayList<>();
        for (Spec.SeccompSyscall rule : seccomp.syscalls()) {
            boolean answeredByTheSentry = "SCMP_ACT_ERRNO".equals(rule.action()) && rule.errnoRet() != null
                    && rule.errnoRet() == ENOSYS && UNIMPLEMENTED_IN_GVISOR.containsAll(rule.names());
            List<String> names = new ArrayList<>(rule.names());
            rule.names().stream().map(GVISOR_NAMES::get).filter(Objects::nonNull).forEach(names::add);
            rules.add(answeredByTheSentry ? new Spec.SeccompSyscall(names, "SCMP_ACT_ALLOW", null, rule.args())
                    : new Spec.SeccompSyscall(names, rule.action(), rule.errnoRet(), rule.args()));
        }
        return spec.withLinux(spec.linux().withSeccomp(new Spec.Seccomp(seccomp.defaultAction(),
                seccomp.defaultErrnoRet(), seccomp.architectures(), rules)));
    }

    /**
     * The spec's masked and read-only paths as gVisor can honour them: runsc 20221219 ignores both
     * lists (its /proc and /sys are its own kernel's). Of the masked paths, gVisor shows only
     * directories ({@link #MASKED_DIRECTORIES_IN_GVISOR}), each covered here as runc covers a
     * directory: an empty read-only tmpfs. gVisor cannot make a part of its /proc read-only (a spec
     * mount there would be a new /proc, or the host's files through the gofer), so a read-only path in
     * /proc makes the whole /proc read-only: nothing there is the host's, and what the cage writes in
     * it under runc (its own oom_score_adj, a thread's comm) changes gVisor's kernel only.
     */
    private static Spec withKernelPathsWalled(Spec spec) {
        List<Spec.Mount> mounts = new ArrayList<>();
        boolean procReadOnly = spec.linux().readonlyPaths().stream().anyMatch(path -> path.startsWith("/proc/"));
        for (Spec.Mount mount : spec.mounts()) {
            boolean readOnlyProc = procReadOnly && mount.destination().equals("/proc") && !mount.options().contains("ro");
            mounts.add(readOnlyProc ? new Spec.Mount(mount.destination(), mount.type(), mount.source(),
                    Stream.concat(mount.options().stream(), Stream.of("ro")).toList()) : mount);
        }
        spec.linux().maskedPaths().stream().filter(MASKED_DIRECTORIES_IN_GVISOR::contains).forEach(path ->
                mounts.add(new Spec.Mount(path, "tmpfs", "tmpfs", List.of("ro", "nosuid", "noexec", "nodev", "mode=0555"))));
        return spec.withMounts(mounts);
    }

    /**
     * No device nodes without CAP_MKNOD, as under the host's kernel: gVisor 20221219 makes one for any
     * process, capability or not, in its own file systems (its mknodat checks none). Without that
     * capability in the spec, mknod and mknodat are allowed for what needs none (a FIFO, a socket, a
     * regular file) and refused (EPERM) for a character or block device.
     */
    private static Spec withoutDeviceNodes(Spec spec) {
        Spec.Seccomp seccomp = spec.linux().seccomp();
        if (seccomp == null || spec.process().capabilities().effective().contains("CAP_MKNOD")) {
            return spec;
        }
        List<Spec.SeccompSyscall> rules = new ArrayList<>();
        List<String> mknods = new ArrayList<>();
        for (Spec.SeccompSyscall rule : seccomp.syscalls()) {
            List<String> unconditional = rule.args() == null && "SCMP_ACT_ALLOW".equals(rule.action())
                    ? rule.names().stream().filter(MKNOD_MODE_ARGUMENT::containsKey).toList() : List.of();
            mknods.addAll(unconditional);
            List<String> kept = rule.names().stream().filter(name -> !unconditional.contains(name)).toList();
            if (!kept.isEmpty()) {
                rules.add(new Spec.SeccompSyscall(kept, rule.action(), rule.errnoRet(), rule.args()));
            }
        }
        for (String call : mknods) {
            for (int fileType : FILE_TYPES_WITHOUT_CAP_MKNOD) {
                rules.add(new Spec.SeccompSyscall(List.of(call), "SCMP_ACT_ALLOW", null, List.of(new Spec.SeccompArg(
                        MKNOD_MODE_ARGUMENT.get(call), S_IFMT, fileType, "SCMP_CMP_MASKED_EQ"))));
            }
        }
        return spec.withLinux(spec.linux().withSeccomp(new Spec.Seccomp(seccomp.defaultAction(),
                seccomp.defaultErrnoRet(), seccomp.architectures(), rules)));
    }
}
