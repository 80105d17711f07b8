package dev.claudecage.verify;

import dev.claudecage.config.NetworkMode;

import java.util.ArrayList;
import java.util.List;

import static dev.claudecage.verify.Weakening.all;
import static dev.claudecage.verify.Weakening.capabilities;
import static dev.claudecage.verify.Weakening.noSeccomp;

/** Every probe, in report order: one or more per wall of the threat model. */
public final class ProbeCatalogue {

    static final String GATEWAY_IDLE_PORTS = "gateway-idle-ports-closed";
    static final String API_DIRECT_ROUTE = "api-direct-route-closed";
    /** The identity probes: judged, or run, by the host, from outside the cage (IdentityCheck). */
    static final String OWN_IDS = "cage-ids-nobodys";
    static final String HOST_USER_TRACE = "host-user-cannot-trace";
    static final String IDS_DISJOINT = "cage-ids-disjoint";

    private ProbeCatalogue() {
    }

    public static List<Probe> probes(VerifyFixtures fixtures, NetworkMode network) {
        List<Probe> probes = new ArrayList<>(walls(fixtures));
        if (network == NetworkMode.FILTERED) {
            probes.add(new Probe("gateway-other-ports-blocked", "network",
                    "only the proxy, gateway and DNS ports of the cage's gateway answer, over IPv4 and IPv6",
                    Weakening.hostNamespace("network")));
            probes.add(new Probe(GATEWAY_IDLE_PORTS, "network",
                    "the port of a gateway service that does not run (the git gateway's without git_credentials) is "
                            + "closed, though a program listens there", Weakening.idleGatewayPortsOpen()));
            probes.add(new Probe(API_DIRECT_ROUTE, "network",
                    "with the API gateway holding the key, the API's hosts are refused past it: CONNECT, plain HTTP and "
                            + "TLS by name", Weakening.noApiKey()));
        }
        return probes;
    }

    private static List<Probe> walls(VerifyFixtures fixtures) {
        return List.of(
                new Probe("root-read-only", "filesystem", "the image root cannot be written",
                        Weakening.writableRoot()),
                new Probe("only-expected-mounts-writable", "filesystem",
                        "nothing but scratch tmpfs and the given mounts is writable", Weakening.writableRoot()),
                new Probe("readonly-mount-holds", "filesystem", "a mount given read-only cannot be written",
                        Weakening.writableMount(VerifyFixtures.READ_ONLY_MOUNT)),
                new Probe("workspace-protected-paths-hold", "workspace",
                        "the protected paths of a writable workspace (git hooks and config, editor and direnv files) "
                                + "can be neither written, created nor replaced, present or missing",
                        Weakening.noWorkspaceWall(VerifyFixtures.WORKSPACE_MOUNT)),
                new Probe("workspace-folders-pinned", "workspace",
                        "a folder holding protected paths (.git) cannot be renamed away and rebuilt",
                        Weakening.noWorkspaceWall(VerifyFixtures.WORKSPACE_MOUNT)),
                new Probe("host-file-unreadable", "filesystem", "a host file outside the mounts cannot be read",
                        Weakening.exposeHostDirectory(fixtures.secretDirectory().toString())),
                new Probe("mount-denied", "privileges", "mount(2) is refused",
                        all(noSeccomp(), capabilities("CAP_SYS_ADMIN"))),
                new Probe("userns-denied", "privileges", "no new user namespace", noSeccomp()),
                new Probe("setuid-inert", "privileges", "a setuid-root program gains nothing",
                        Weakening.noNewPrivilegesOff()),
                new Probe("no-new-privs-set", "privileges", "no_new_privs is set", Weakening.noNewPrivilegesOff()),
                new Probe("capabilities-empty", "capabilities", "every capability set is empty",
                        capabilities("CAP_CHOWN")),
                new Probe("raw-socket-denied", "capabilities", "no raw IP sockets",
                        all(noSeccomp(), capabilities("CAP_NET_RAW"))),
                new Probe("seccomp-filter-active", "seccomp", "a seccomp filter is installed", noSeccomp()),
                new Probe("clone3-enosys", "seccomp",
                        "clone3, whose flags the filter cannot read, answers ENOSYS (glibc falls back to clone)",
                        noSeccomp()),
                new Probe("ptrace-denied", "seccomp", "ptrace of another process is refused", noSeccomp()),
                new Probe("keyctl-denied", "seccomp", "the kernel keyring is out of reach", noSeccomp()),
                new Probe("bpf-denied", "seccomp", "bpf(2) is refused", noSeccomp()),
                new Probe("module-load-denied", "seccomp", "kernel modules cannot be loaded",
                        all(noSeccomp(), capabilities("CAP_SYS_MODULE"))),
                new Probe("kexec-denied", "seccomp", "kexec_load(2) is refused",
                        all(noSeccomp(), capabilities("CAP_SYS_BOOT"))),
                new Probe("perf-event-denied", "seccomp", "perf_event_open(2) is refused", noSeccomp()),
                new Probe("userfaultfd-denied", "seccomp", "userfaultfd(2) is refused", noSeccomp()),
                new Probe("io-uring-denied", "seccomp", "io_uring is refused", noSeccomp()),
                new Probe("packet-socket-denied", "seccomp", "no AF_PACKET sockets",
                        all(noSeccomp(), capabilities("CAP_NET_RAW"))),
                new Probe("vsock-denied", "seccomp", "no AF_VSOCK sockets", noSeccomp()),
                new Probe("alg-socket-denied", "seccomp", "no AF_ALG sockets", noSeccomp()),
                new Probe("sctp-socket-denied", "seccomp",
                        "no SCTP sockets (the kernel would load the sctp module on the host)", noSeccomp()),
                new Probe("dccp-socket-denied", "seccomp", "no DCCP sockets", noSeccomp()),
                new Probe("netlink-uevent-denied", "seccomp",
                        "no netlink socket for the host's device events (NETLINK_KOBJECT_UEVENT)", noSeccomp()),
                new Probe("tiocsti-denied", "seccomp", "TIOCSTI cannot inject terminal input",
                        all(noSeccomp(), capabilities("CAP_SYS_ADMIN"))),
                new Probe("tiocsti-high-bits-denied", "seccomp",
                        "TIOCSTI with high bits set in the request is refused too",
                        all(noSeccomp(), capabilities("CAP_SYS_ADMIN"))),
                new Probe("open-by-handle-denied", "seccomp", "no file handles to inodes outside the root (shocker)",
                        all(noSeccomp(), capabilities("CAP_DAC_READ_SEARCH"))),
                new Probe("chroot-denied", "seccomp", "chroot(2) is refused", all(noSeccomp(), capabilities("CAP_SYS_CHROOT"))),
                new Probe("mknod-denied", "capabilities", "no device nodes can be made", capabilities("CAP_MKNOD")),
                new Probe("sethostname-denied", "seccomp", "the hostname cannot be changed",
                        all(noSeccomp(), capabilities("CAP_SYS_ADMIN"))),
                new Probe("clock-denied", "seccomp", "the system clock cannot be set",
                        all(noSeccomp(), capabilities("CAP_SYS_TIME"))),
                new Probe("swapon-denied", "seccomp", "swap cannot be changed",
                        all(noSeccomp(), capabilities("CAP_SYS_ADMIN"))),
                new Probe("reboot-denied", "seccomp", "reboot(2) is refused", all(noSeccomp(), capabilities("CAP_SYS_BOOT"))),
                new Probe("kernel-log-denied", "seccomp", "the kernel log cannot be read",
                        all(noSeccomp(), capabilities("CAP_SYSLOG"))),
                new Probe("devices-minimal", "filesystem", "/dev holds only the minimal device nodes",
                        Weakening.exposeHostDirectory("/dev")),
                new Probe("proc-paths-masked", "proc",
                        "kernel interfaces such as /proc/kcore, /proc/keys and /sys/firmware are masked",
                        Weakening.noMaskedPaths()),
                new Probe("proc-paths-read-only", "proc",
                        "/proc/sys, /proc/sysrq-trigger and the other kernel knobs are read-only",
                        Weakening.noReadonlyPaths()),
                new Probe("proc-sys-read-only", "proc", "/proc/sys is read-only", Weakening.noReadonlyPaths()),
                new Probe("cgroupfs-read-only", "cgroups", "cgroupfs (and release_agent) is read-only",
                        Weakening.writableCgroupfs()),
                new Probe("pids-limit-holds", "resources", "a fork bomb stops at the pids limit",
                        Weakening.noPidsLimit()),
                new Probe("memory-limit-holds", "resources", "a memory bomb stops at the memory limit",
                        Weakening.noMemoryLimit()),
                new Probe("network-isolated", "network", "the host's loopback is out of reach",
                        Weakening.hostNamespace("network")),
                new Probe("network-interfaces-expected", "network",
                        "the cage has only loopback, and in filtered mode its one link to the gateway",
                        Weakening.hostNamespace("network")),
                new Probe("no-net-admin", "network", "the cage cannot reconfigure its network (no CAP_NET_ADMIN)",
                        capabilities("CAP_NET_ADMIN")),
                new Probe("real-key-absent", "credentials",
                        "the user's API key is in no environment or file the cage can read",
                        Weakening.addEnvironment("ANTHROPIC_API_KEY=" + new String(fixtures.realKey().get()))),
                new Probe("hostname-isolated", "namespaces", "the cage has its own hostname",
                        Weakening.hostNamespace("uts")),
                new Probe("host-pids-invisible", "namespaces", "host processes are invisible",
                        Weakening.hostNamespace("pid")),
                new Probe(OWN_IDS, "identity", "the cage's user is a host id of the cage's own block, neither the "
                        + "invoking user's nor any host account's (its uid_map read inside, the host's accounts outside)",
                        Weakening.hostIds()),
                new Probe(HOST_USER_TRACE, "identity", "a host process of the cage's uid (1000) can neither ptrace the "
                        + "cage's processes nor read their environment", Weakening.hostIds()),
                new Probe(IDS_DISJOINT, "identity", "two cages that run at once have no host id in common",
                        Weakening.hostIds()));
    }
}
