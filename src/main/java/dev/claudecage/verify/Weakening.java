package dev.claudecage.verify;

import dev.claudecage.net.cage.CageNetworking;
import dev.claudecage.oci.Spec;
import dev.claudecage.runtime.CagePlan;
import dev.claudecage.runtime.RuntimeKind;

import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * One wall taken down, as a pure change to a spec, to how the cage's network is set up, or to the
 * plan it is built from. Positive controls run a probe in a cage weakened this way: the probe must
 * then report the hole, which proves it can see one.
 */
public record Weakening(String description, UnaryOperator<Spec> change, UnaryOperator<CageNetworking.Options> network,
                        UnaryOperator<CagePlan> plan) {

    /** A change to the spec alone. */
    public Weakening(String description, UnaryOperator<Spec> change) {
        this(description, change, UnaryOperator.identity(), UnaryOperator.identity());
    }

    /** A change to the spec and the network. */
    public Weakening(String description, UnaryOperator<Spec> change, UnaryOperator<CageNetworking.Options> network) {
        this(description, change, network, UnaryOperator.identity());
    }

    public Spec applyTo(Spec spec) {
        return change.apply(spec);
    }

    public CageNetworking.Options applyTo(CageNetworking.Options options) {
        return network.apply(options);
    }

    public CagePlan applyTo(CagePlan cagePlan) {
        return plan.apply(cagePlan);
    }

    /**
     * The cage shares the host's ids, as cages did before each got its own: its uid 1000 is host uid
     * 1000, whichever account that is, and every other cage's too.
     */
    public static Weakening hostIds() {
        return new Weakening("host ids (no user namespace of its own)", UnaryOperator.identity(), UnaryOperator.identity(),
                CagePlan::withHostIds);
    }

    /**
     * No API key on the host: no API gateway runs, so the proxy lets the cage reach the API's hosts as
     * allowed_hosts says, with any credential; the wall that closes that route is the gateway holding the key.
     */
    public static Weakening noApiKey() {
        return new Weakening("no API key on the host", UnaryOperator.identity(),
                CageNetworking.Options::withoutRealKey);
    }

    /** The firewalls open the ports of gateway services that do not run, as before they opened only what runs. */
    public static Weakening idleGatewayPortsOpen() {
        return new Weakening("idle gateway ports open", UnaryOperator.identity(),
                CageNetworking.Options::withIdlePortsOpen);
    }

    public static Weakening noSeccomp() {
        return new Weakening("no seccomp filter", spec -> spec.withLinux(spec.linux().withSeccomp(null)));
    }

    /**
     * The capabilities, in the host's user namespace: in a user namespace of the cage's own they would
     * count only for what that namespace owns, a second wall the control must take down too.
     */
    public static Weakening capabilities(String... caps) {
        return new Weakening("capabilities " + String.join(",", caps) + " in the host's user namespace",
                spec -> spec.withProcess(spec.process().withCapabilities(Spec.Capabilities.all(List.of(caps)))),
                UnaryOperator.identity(), CagePlan::withHostIds);
    }

    public static Weakening writableRoot() {
        return new Weakening("read-write root", spec -> spec.withRoot(new Spec.Root(spec.root().path(), false)));
    }

    public static Weakening noNewPrivilegesOff() {
        return new Weakening("no_new_privs off", spec -> spec.withProcess(spec.process().withNoNewPrivileges(false)));
    }

    public static Weakening noMaskedPaths() {
        return new Weakening("no masked paths", spec -> spec.withLinux(spec.linux().withMaskedPaths(List.of())));
    }

    public static Weakening noReadonlyPaths() {
        return new Weakening("no read-only /proc paths", spec -> spec.withLinux(spec.linux().withReadonlyPaths(List.of())));
    }

    public static Weakening writableCgroupfs() {
        return new Weakening("read-write cgroupfs", spec -> spec.withMounts(spec.mounts().stream()
                .map(mount -> mount.type().equals("cgroup")
                        ? new Spec.Mount(mount.destination(), mount.type(), mount.source(),
                        mount.options().stream().filter(option -> !option.equals("ro")).toList())
                        : mount)
                .toList()));
    }

    public static Weakening noPidsLimit() {
        return new Weakening("no pids limit", spec -> withResources(spec, new Spec.Resources(
                spec.linux().resources().devices(), spec.linux().resources().memory(), spec.linux().resources().cpu(), null)));
    }

    public static Weakening noMemoryLimit() {
        return new Weakening("no memory limit", spec -> withResources(spec, new Spec.Resources(
                spec.linux().resources().devices(), null, spec.linux().resources().cpu(), spec.linux().resources().pids())));
    }

    /**
     * Shares one of the host's namespaces instead of a new one. Under runsc a cage in the host's
     * network namespace also shares the host's ids: runsc 20221219 then starts its sandbox in the
     * cage's user namespace with the cage's capabilities, where it may not set up its own root
     * ("error setting up chroot: error converting mounts: operation not permitted"); no network
     * probe looks at the ids.
     */
    public static Weakening hostNamespace(String type) {
        return new Weakening("host " + type + " namespace", spec -> {
            Spec shared = spec.withLinux(spec.linux().withNamespaces(spec.linux().namespaces().stream()
                    .filter(namespace -> !namespace.type().equals(type)).toList()));
            // The runtime refuses a hostname without a UTS namespace of the cage's own.
            return type.equals("uts") ? shared.withHostname(null) : shared;
        }, UnaryOperator.identity(), plan -> type.equals("network") && plan.runtime().kind() == RuntimeKind.RUNSC
                ? plan.withHostIds() : plan);
    }

    /** Makes the read-only mount at {@code destination} writable. */
    public static Weakening writableMount(String destination) {
        return new Weakening("read-write " + destination, spec -> spec.withMounts(spec.mounts().stream()
                .map(mount -> mount.destination().equals(destination)
                        ? new Spec.Mount(mount.destination(), mount.type(), mount.source(),
                        mount.options().stream().map(option -> option.equals("ro") ? "rw" : option).toList())
                        : mount)
                .toList()));
    }

    /** Takes away the workspace wall: every mount inside the workspace at {@code target} (its guards) goes. */
    public static Weakening noWorkspaceWall(String target) {
        return new Weakening("no workspace wall in " + target, spec -> spec.withMounts(spec.mounts().stream()
                .filter(mount -> !mount.destination().startsWith(target + "/")).toList()));
    }

    /** Bind-mounts a host directory into the cage at the same path. */
    public static Weakening exposeHostDirectory(String path) {
        return new Weakening("host directory " + path + " mounted", spec -> {
            List<Spec.Mount> mounts = new ArrayList<>(spec.mounts());
            // rbind: a rootless cage may not bind a tree without the mounts under it.
            mounts.add(new Spec.Mount(path, "bind", path, List.of("rbind", "ro")));
            return spec.withMounts(mounts);
        });
    }

    /** Puts a variable into the cage's environment: the control for probes that look for secrets. */
    public static Weakening addEnvironment(String entry) {
        return new Weakening("environment " + entry.substring(0, entry.indexOf('=')) + " set", spec -> {
            List<String> env = new ArrayList<>(spec.process().env());
            env.add(entry);
            return spec.withProcess(spec.process().withEnv(env));
        });
    }

    /** Several walls down at once, for probes guarded by more than one layer. */
    public static Weakening all(Weakening... weakenings) {
        List<String> descriptions = new ArrayList<>();
        UnaryOperator<Spec> combined = UnaryOperator.identity();
        UnaryOperator<CageNetworking.Options> network = UnaryOperator.identity();
        UnaryOperator<CagePlan> plan = UnaryOperator.identity();
        for (Weakening weakening : weakenings) {
            descriptions.add(weakening.description());
            UnaryOperator<Spec> before = combined;
            combined = spec -> weakening.applyTo(before.apply(spec));
            UnaryOperator<CageNetworking.Options> networkBefore = network;
            network = options -> weakening.applyTo(networkBefore.apply(options));
            UnaryOperator<CagePlan> planBefore = plan;
            plan = cagePlan -> weakening.applyTo(planBefore.apply(cagePlan));
        }
        return new Weakening(String.join(" + ", descriptions), combined, network, plan);
    }

    private static Spec withResources(Spec spec, Spec.Resources resources) {
        return spec.withLinux(spec.linux().withResources(resources));
    }
}
