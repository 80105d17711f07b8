package dev.claudecage.doctor;

import dev.claudecage.rootless.IdMap;
import dev.claudecage.host.CgroupLayout;
import dev.claudecage.rootless.IdRange;
import dev.claudecage.security.AppArmor;

import java.util.ArrayList;
import java.util.List;

/**
 * What a {@link HostSnapshot} means for this user: one finding per host piece, each saying what
 * is there and what its absence costs (which modes and flags stop working). Pure.
 *
 * @param rootless true when judged for an unprivileged user
 * @param canRun   whether cages can run for this user at all
 * @param verdict  one line: whether cages can run for this user, and with what missing
 * @param identity one line: who a cage's processes are on this host
 */
public record Diagnosis(int uid, String user, boolean rootless, List<Finding> findings, boolean canRun, String verdict,
                        String identity) {

    public enum Status {
        /** Present and usable. */
        OK,
        /** Present, but something works less than fully; {@code cost} says what. */
        LIMITED,
        /** Absent or unusable; {@code cost} says what stops working. */
        MISSING,
        /** Not needed in this mode. */
        NOT_NEEDED
    }

    /** @param cost what stops working because of it; empty when nothing does */
    public record Finding(String check, Status status, String detail, String cost) {
    }

    public Diagnosis {
        findings = List.copyOf(findings);
    }

    /** Kernel releases from which overlayfs can be mounted inside a user namespace. */
    static final int[] USERNS_OVERLAY_KERNEL = {5, 11};

    static final String LIMITS_COST = "rootless: --cpus, --memory and --pids-limit cannot be enforced; run refuses "
            + "unless --allow-unlimited is given";
    static final String NO_ROOTLESS = "rootless cages cannot start";
    static final String SHARED_IDS_COST = "every cage runs as host uid 1000 (its user's uid), shared with the host "
            + "account of that uid and with every other cage: that account can trace the cages, read their environment "
            + "(the placeholder key) and reach their sockets; with --network host they share its abstract sockets and "
            + "credentials; and cages are not kept apart by identity";

    public static Diagnosis of(HostSnapshot host) {
        boolean rootless = host.uid() != 0;
        List<Finding> findings = new ArrayList<>();
        findings.add(host.runcVersion() != null
                ? ok("runtime runc", host.runcVersion())
                : missing("runtime runc", "not installed (apt-get install runc)",
                "no cage runs with the default runtime; only --runtime crun is left"));
        findings.add(crun(host));
        findings.add(new Finding("cgroup version", host.cgroupLayout() == CgroupLayout.NONE ? Status.MISSING : Status.OK,
                host.cgroupLayout().describe(),
                host.cgroupLayout() == CgroupLayout.NONE ? "no resource limits can be enforced" : ""));
        findings.add(!rootless ? ok("cgroup delegation", host.cgroupDetail())
                : host.cgroupsDelegated() ? ok("cgroup delegation", host.cgroupDetail())
                : new Finding("cgroup delegation", Status.LIMITED, "not delegated to this user (" + host.cgroupDetail() + ")",
                LIMITS_COST));
        findings.add(subordinate("uid", "/etc/subuid", host.subuids(), rootless));
        findings.add(subordinate("gid", "/etc/subgid", host.subgids(), rootless));
        findings.add(appArmor(host.appArmor()));
        findings.add(userNamespaces(host, rootless));
        findings.add(overlay(host.kernel(), rootless));
        findings.add(ownIds(host.ownIds()));
        findings.add(host.nftVersion() != null
                ? ok("nft", host.nftVersion())
                : missing("nft", "not installed (apt-get install nftables)",
                rootless ? "none for rootless cages (their filtered network has loopback only)"
                        : "--network filtered does not work"));
        findings.add(mapHelper("newuidmap", host.newuidmap(), rootless));
        findings.add(mapHelper("newgidmap", host.newgidmap(), rootless));
        if (rootless) {
            findings.add(host.xdgRuntimeDir() != null
                    ? ok("XDG_RUNTIME_DIR", host.xdgRuntimeDir())
                    : new Finding("XDG_RUNTIME_DIR", Status.LIMITED, "not set",
                    "runtime state goes to /run/user/" + host.uid() + " if that is this user's own 0700 folder; "
                            + "otherwise cages refuse to start until it is set"));
        }
        List<String> blocking = new ArrayList<>();
        if (host.runcVersion() == null) {
            blocking.add("runtime runc");
        }
        if (rootless) {
            findings.stream().filter(finding -> finding.status() == Status.MISSING && finding.cost().startsWith(NO_ROOTLESS))
                    .forEach(finding -> blocking.add(finding.check()));
        }
        return new Diagnosis(host.uid(), host.userName(), rootless, findings, blocking.isEmpty(),
                verdict(rootless, blocking, host.cgroupsDelegated()), identity(host));
    }

    /** This diagnosis with one more finding, which does not change whether cages can run at all. */
    public Diagnosis with(Finding finding) {
        List<Finding> all = new ArrayList<>(findings);
        all.add(finding);
        return new Diagnosis(uid, user, rootless, all, canRun, verdict, identity);
    }

    /** Who a cage's processes are on this host, in one line. */
    static String identity(HostSnapshot host) {
        HostSnapshot.OwnIds ids = host.ownIds();
        if (ids == null) {
            return "rootless: a cage's user is you (uid " + host.uid() + ") in your own user namespace, and its other ids "
                    + "are your subordinate ones";
        }
        if (ownIdsWork(ids)) {
            return "each cage runs as 65536 host ids of its own, from " + ids.source() + " (" + ids.blocks()
                    + " cages at once): its uid 1000 is a host id that no account and no other cage has";
        }
        return "every cage runs as host uid 1000, its user's, shared with that host account and every other cage ("
                + (ids.missing() != null ? ids.missing() : ids.idmapProblem()) + ")";
    }

    private static boolean ownIdsWork(HostSnapshot.OwnIds ids) {
        return ids.missing() == null && ids.idmapProblem() == null;
    }

    private static Finding ownIds(HostSnapshot.OwnIds ids) {
        String check = "cages' own ids";
        if (ids == null) {
            return new Finding(check, Status.NOT_NEEDED, "rootless cages run in your own user namespace", "");
        }
        if (ownIdsWork(ids)) {
            return ok(check, ids.blocks() + " blocks of 65536 from " + ids.source() + ", " + ids.held() + " held now");
        }
        return missing(check, ids.missing() != null ? ids.missing() : ids.idmapProblem(), SHARED_IDS_COST);
    }

    /** Whether kernel release {@code kernel} (like 6.18.44-x) is {@code least} (major, minor) or later. */
    static boolean atLeast(String kernel, int[] least) {
        String[] parts = kernel.split("[.-]");
        return parts.length >= 2 && parts[0].matches("[0-9]+") && parts[1].matches("[0-9]+")
                && (Integer.parseInt(parts[0]) > least[0] || (Integer.parseInt(parts[0]) == least[0]
                && Integer.parseInt(parts[1]) >= least[1]));
    }

    private static String verdict(boolean rootless, List<String> blocking, boolean cgroupsDelegated) {
        String mode = rootless ? "rootless: " : "root mode: ";
        if (!blocking.isEmpty()) {
            return mode + "cages cannot run" + (rootless ? " for this user" : "") + " (missing: " + String.join(", ", blocking) + ")";
        }
        return mode + (cgroupsDelegated ? "cages can run" : "cages can run, but only with --allow-unlimited (no cgroup delegation)");
    }

    private static Finding crun(HostSnapshot host) {
        if (host.crunVersion() == null) {
            return missing("runtime crun", "not installed", "--runtime crun does not work (runc is the default)");
        }
        if (host.cgroupLayout() == CgroupLayout.HYBRID) {
            return new Finding("runtime crun", Status.MISSING,
                    host.crunVersion() + "; refuses this host's hybrid cgroup layout",
                    "--runtime crun does not work here; use runc (the default)");
        }
        return ok("runtime crun", host.crunVersion());
    }

    private static Finding subordinate(String kind, String file, List<IdRange> ranges, boolean rootless) {
        String check = "sub" + kind + " ranges";
        long total = ranges.stream().mapToLong(IdRange::count).sum();
        String listed = ranges.isEmpty() ? "none in " + file
                : String.join(", ", ranges.stream().map(IdRange::toString).toList());
        if (!rootless) {
            return new Finding(check, Status.NOT_NEEDED, listed + " (root mode maps nothing)", "");
        }
        if (total >= IdMap.SIZE - 1) {
            return ok(check, listed);
        }
        return missing(check, listed + "; " + (IdMap.SIZE - 1) + " needed",
                NO_ROOTLESS + " (the cage's system users need a subordinate range: sudo usermod --add-sub" + kind
                        + "s 100000-165535 USER)");
    }

    private static Finding appArmor(AppArmor appArmor) {
        return switch (appArmor.status()) {
            case ENFORCED -> ok("AppArmor", appArmor.detail());
            case PROFILE_NOT_LOADED -> missing("AppArmor", appArmor.detail(),
                    "cages refuse to start unconfined until the profile is loaded");
            case UNAVAILABLE -> new Finding("AppArmor", Status.MISSING, appArmor.detail(),
                    "no AppArmor layer; seccomp, capabilities, namespaces and the read-only root still hold");
        };
    }

    private static Finding userNamespaces(HostSnapshot host, boolean rootless) {
        String detail = "max_user_namespaces=" + host.maxUserNamespaces() + ", unprivileged_userns_clone="
                + (host.unprivilegedUsernsClone() == null ? "(no such knob: not restricted)" : host.unprivilegedUsernsClone());
        boolean forUsers = host.maxUserNamespaces() > 0
                && (host.unprivilegedUsernsClone() == null || host.unprivilegedUsernsClone() != 0);
        if (host.maxUserNamespaces() <= 0) {
            return missing("user namespaces", detail, NO_ROOTLESS + "; as root, mounts owned by another user "
                    + "cannot be shifted, so the cage cannot write them");
        }
        if (!forUsers) {
            return rootless ? missing("user namespaces", detail, NO_ROOTLESS + " (unprivileged users may not create them)")
                    : new Finding("user namespaces", Status.LIMITED, detail, "rootless mode does not work for other users");
        }
        return ok("user namespaces", detail);
    }

    private static Finding overlay(String kernel, boolean rootless) {
        boolean recent = atLeast(kernel, USERNS_OVERLAY_KERNEL);
        String check = "overlayfs in a user namespace";
        if (!rootless) {
            return new Finding(check, Status.NOT_NEEDED, "kernel " + kernel + " (root mounts the overlay itself)", "");
        }
        return recent ? ok(check, "kernel " + kernel + " (5.11 or later)")
                : missing(check, "kernel " + kernel + " is older than 5.11",
                NO_ROOTLESS + " (their read-only root is an overlay mounted in the user namespace)");
    }

    private static Finding mapHelper(String name, HostSnapshot.MapHelper helper, boolean rootless) {
        if (helper.privileged()) {
            return ok(name, helper.path() + ", " + helper.detail());
        }
        String detail = helper.path() == null ? helper.detail() : helper.path() + ": " + helper.detail();
        return rootless ? missing(name, detail, NO_ROOTLESS + " (it writes the subordinate range into the namespace)")
                : new Finding(name, Status.NOT_NEEDED, detail, "rootless mode does not work for users");
    }

    private static Finding ok(String check, String detail) {
        return new Finding(check, Status.OK, detail, "");
    }

    private static Finding missing(String check, String detail, String cost) {
        return new Finding(check, Status.MISSING, detail, cost);
    }
}
