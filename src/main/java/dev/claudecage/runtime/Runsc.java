package dev.claudecage.runtime;

import dev.claudecage.config.NetworkMode;
import dev.claudecage.oci.Spec;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What runsc (gVisor) needs beyond the command line and config.json that runc and crun take. The
 * cage's spec is the one {@link dev.claudecage.oci.SpecBuilder} makes for every runtime; {@link #adapt}
 * changes only what gVisor reads differently, and says why at each change.
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

    private Runsc() {
    }

    /**
     * The options of {@code runsc run} for a cage with {@code spec} on {@code platform}.
     * <ul>
     * <li>{@code --oci-seccomp}: without it runsc ignores the spec's seccomp filter; with it the sentry
     * applies the filter to the cage's calls, so the same syscall wall stands inside gVisor's kernel
     * as in front of the host's under runc.</li>
     * <li>{@code --network}: see {@link #network}.</li>
     * </ul>
     */
    static List<String> runOptions(String platform, Spec spec) {
        return List.of("--platform=" + platform, "--network=" + network(spec), "--oci-seccomp");
    }

    /**
     * Why a cage on {@code network} cannot run under runsc, or null when it can. gVisor 20221219 reaches
     * a prepared namespace (filtered) or the host's only through the host's network stack, and there a
     * blocking read on a connected TCP socket answers EAGAIN (seen against the cage's own proxy), so
     * no client in the cage could read a reply; its own stack ({@code --network=sandbox}) refuses a
     * namespace it was not started in.
     */
    static String unsupportedNetwork(NetworkMode network) {
        return network == NetworkMode.NONE ? null : "network '" + network.yamlWord() + "' does not work under runsc "
                + "(gVisor 20221219) yet: through the host's network stack, a blocking read on a TCP socket in the "
                + "cage answers EAGAIN, so no reply could be read";
    }

    /**
     * gVisor's network for the cage's network namespace. A namespace claude-cage prepared (filtered)
     * and the host's ({@code network: host}, no namespace in the spec) are used through the host's
     * network stack ({@code host}): the sentry makes its sockets in that namespace, so every packet
     * passes the nftables walls there and on the host, and the drop log, as under runc. gVisor's own
     * stack ({@code sandbox}) would take the veth's addresses and send through a packet socket,
     * past the output chain inside the namespace and its drop log. A fresh namespace
     * ({@code network: none}) is gVisor's loopback alone ({@code none}).
     */
    static String network(Spec spec) {
        return spec.linux().namespaces().stream().filter(namespace -> namespace.type().equals("network"))
                .findFirst().map(namespace -> namespace.path() == null ? "none" : "host").orElse("host");
    }

    /**
     * The spec as runsc must get it. gVisor's seccomp ignores a rule's {@code errnoRet} and answers
     * EPERM: the profile's "clone3 answers ENOSYS" rule (so that glibc falls back to clone, whose
     * flags the filter can read) would answer EPERM, and every thread and posix_spawn would fail.
     * gVisor does not implement clone3 at all, so letting that call through to the sentry gets the
     * ENOSYS the rule means; the probe {@code clone3-enosys} checks that it still does. And a call
     * gVisor names differently ({@link #GVISOR_NAMES}) gets its gVisor name beside the kernel's.
     */
    static Spec adapt(Spec spec) {
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
}
