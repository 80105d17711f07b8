package dev.claudecage.oci;

import java.util.List;

/**
 * The subset of the OCI runtime spec (1.0.2) that claude-cage generates, as plain data.
 * Field names follow config.json exactly, so {@link dev.claudecage.json.Json} writes them
 * without annotations. Nulls are omitted from the output; empty lists are written, because
 * an explicit empty capability set is part of the policy.
 */
public record Spec(String ociVersion, Process process, Root root, String hostname,
                   List<Mount> mounts, Linux linux) {

    public static final String OCI_VERSION = "1.0.2";

    public Spec {
        mounts = List.copyOf(mounts);
    }

    public Spec withProcess(Process newProcess) {
        return new Spec(ociVersion, newProcess, root, hostname, mounts, linux);
    }

    public Spec withRoot(Root newRoot) {
        return new Spec(ociVersion, process, newRoot, hostname, mounts, linux);
    }

    public Spec withHostname(String newHostname) {
        return new Spec(ociVersion, process, root, newHostname, mounts, linux);
    }

    public Spec withMounts(List<Mount> newMounts) {
        return new Spec(ociVersion, process, root, hostname, newMounts, linux);
    }

    public Spec withLinux(Linux newLinux) {
        return new Spec(ociVersion, process, root, hostname, mounts, newLinux);
    }

    public record Process(boolean terminal, User user, List<String> args, List<String> env, String cwd,
                          Capabilities capabilities, List<Rlimit> rlimits, boolean noNewPrivileges,
                          String apparmorProfile, Integer oomScoreAdj) {
        public Process {
            args = List.copyOf(args);
            env = List.copyOf(env);
            rlimits = List.copyOf(rlimits);
            if (args.isEmpty()) {
                throw new IllegalArgumentException("process.args must name a command");
            }
        }

        public Process withUser(User newUser) {
            return new Process(terminal, newUser, args, env, cwd, capabilities, rlimits, noNewPrivileges,
                    apparmorProfile, oomScoreAdj);
        }

        public Process withArgs(List<String> newArgs) {
            return new Process(terminal, user, newArgs, env, cwd, capabilities, rlimits, noNewPrivileges,
                    apparmorProfile, oomScoreAdj);
        }

        public Process withEnv(List<String> newEnv) {
            return new Process(terminal, user, args, newEnv, cwd, capabilities, rlimits, noNewPrivileges,
                    apparmorProfile, oomScoreAdj);
        }

        public Process withCapabilities(Capabilities newCapabilities) {
            return new Process(terminal, user, args, env, cwd, newCapabilities, rlimits, noNewPrivileges,
                    apparmorProfile, oomScoreAdj);
        }

        public Process withNoNewPrivileges(boolean value) {
            return new Process(terminal, user, args, env, cwd, capabilities, rlimits, value,
                    apparmorProfile, oomScoreAdj);
        }
    }

    public record User(int uid, int gid, List<Integer> additionalGids) {
        public User {
            additionalGids = List.copyOf(additionalGids);
        }
    }

    /** The five capability sets; claude-cage's policy leaves every one empty. */
    public record Capabilities(List<String> bounding, List<String> effective, List<String> inheritable,
                               List<String> permitted, List<String> ambient) {
        public Capabilities {
            bounding = List.copyOf(bounding);
            effective = List.copyOf(effective);
            inheritable = List.copyOf(inheritable);
            permitted = List.copyOf(permitted);
            ambient = List.copyOf(ambient);
        }

        public static Capabilities none() {
            return all(List.of());
        }

        /** The same list in every set, so that even a non-root process holds them (ambient). */
        public static Capabilities all(List<String> caps) {
            return new Capabilities(caps, caps, caps, caps, caps);
        }
    }

    public record Rlimit(String type, long hard, long soft) {
    }

    public record Root(String path, boolean readonly) {
    }

    public record Mount(String destination, String type, String source, List<String> options) {
        public Mount {
            options = List.copyOf(options);
            if (!destination.startsWith("/")) {
                throw new IllegalArgumentException("mount destination must be absolute: " + destination);
            }
        }
    }

    /**
     * @param uidMappings how the cage's uids map to host uids in a user namespace of its own; null without one
     * @param gidMappings the same for gids
     */
    public record Linux(List<Namespace> namespaces, Resources resources, String cgroupsPath, Seccomp seccomp,
                        List<String> maskedPaths, List<String> readonlyPaths, List<IdMapping> uidMappings,
                        List<IdMapping> gidMappings) {
        public Linux {
            namespaces = List.copyOf(namespaces);
            maskedPaths = List.copyOf(maskedPaths);
            readonlyPaths = List.copyOf(readonlyPaths);
            uidMappings = uidMappings == null ? null : List.copyOf(uidMappings);
            gidMappings = gidMappings == null ? null : List.copyOf(gidMappings);
        }

        /** Without a user namespace of the cage's own. */
        public Linux(List<Namespace> namespaces, Resources resources, String cgroupsPath, Seccomp seccomp,
                     List<String> maskedPaths, List<String> readonlyPaths) {
            this(namespaces, resources, cgroupsPath, seccomp, maskedPaths, readonlyPaths, null, null);
        }

        public Linux withNamespaces(List<Namespace> newNamespaces) {
            return new Linux(newNamespaces, resources, cgroupsPath, seccomp, maskedPaths, readonlyPaths, uidMappings,
                    gidMappings);
        }

        public Linux withResources(Resources newResources) {
            return new Linux(namespaces, newResources, cgroupsPath, seccomp, maskedPaths, readonlyPaths, uidMappings,
                    gidMappings);
        }

        public Linux withSeccomp(Seccomp newSeccomp) {
            return new Linux(namespaces, resources, cgroupsPath, newSeccomp, maskedPaths, readonlyPaths, uidMappings,
                    gidMappings);
        }

        public Linux withCgroupsPath(String path) {
            return new Linux(namespaces, resources, path, seccomp, maskedPaths, readonlyPaths, uidMappings, gidMappings);
        }

        public Linux withMaskedPaths(List<String> paths) {
            return new Linux(namespaces, resources, cgroupsPath, seccomp, paths, readonlyPaths, uidMappings, gidMappings);
        }

        public Linux withReadonlyPaths(List<String> paths) {
            return new Linux(namespaces, resources, cgroupsPath, seccomp, maskedPaths, paths, uidMappings, gidMappings);
        }

        /** Whether the cage gets a {@code type} namespace of its own, made by the runtime (not joined, not the host's). */
        public boolean ownsNamespace(String type) {
            return namespaces.stream().anyMatch(namespace -> namespace.type().equals(type) && namespace.path() == null);
        }
    }

    /** {@code size} ids from {@code containerID} in the cage's user namespace are the host's from {@code hostID}. */
    public record IdMapping(long containerID, long hostID, long size) {
    }

    /** A namespace; {@code path} is null for a new one. */
    public record Namespace(String type, String path) {
        public static Namespace fresh(String type) {
            return new Namespace(type, null);
        }
    }

    public record Resources(List<DeviceRule> devices, Memory memory, Cpu cpu, Pids pids) {
        public Resources {
            devices = List.copyOf(devices);
        }
    }

    public record DeviceRule(boolean allow, String access) {
    }

    /** {@code swap} is memory plus swap, as in runc; equal to {@code limit} means no swap. */
    public record Memory(long limit, long swap) {
    }

    public record Cpu(long quota, long period) {
    }

    public record Pids(long limit) {
    }

    public record Seccomp(String defaultAction, Integer defaultErrnoRet, List<String> architectures,
                          List<SeccompSyscall> syscalls) {
        public Seccomp {
            architectures = List.copyOf(architectures);
            syscalls = List.copyOf(syscalls);
        }
    }

    public record SeccompSyscall(List<String> names, String action, Integer errnoRet, List<SeccompArg> args) {
        public SeccompSyscall {
            names = List.copyOf(names);
            args = args == null ? null : List.copyOf(args);
        }
    }

    public record SeccompArg(int index, long value, long valueTwo, String op) {
    }
}
