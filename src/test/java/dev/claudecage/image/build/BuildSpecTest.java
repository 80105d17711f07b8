package dev.claudecage.image.build;

import dev.claudecage.oci.Spec;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The build sandbox is the cage's spec with a listed few walls lowered, and the rest kept. */
class BuildSpecTest {

    private static final Spec.Seccomp SECCOMP = new Spec.Seccomp("SCMP_ACT_ERRNO", 1, List.of("SCMP_ARCH_X86_64"), List.of());

    private static Spec cage() {
        Spec.Process process = new Spec.Process(false, new Spec.User(1000, 1000, List.of()), List.of("bash"),
                List.of("PATH=/bin", "HOME=/home/claude"), "/home/claude", Spec.Capabilities.none(),
                List.of(new Spec.Rlimit("RLIMIT_NOFILE", 8192, 8192)), true, "claude-cage", null);
        List<Spec.Mount> mounts = List.of(
                new Spec.Mount("/proc", "proc", "proc", List.of()),
                new Spec.Mount("/dev", "tmpfs", "tmpfs", List.of()),
                new Spec.Mount("/sys", "sysfs", "sysfs", List.of("ro")),
                new Spec.Mount("/tmp", "tmpfs", "tmpfs", List.of()),
                new Spec.Mount("/home/claude", "tmpfs", "tmpfs", List.of()),
                new Spec.Mount("/etc/resolv.conf", "bind", "/etc/resolv.conf", List.of("bind", "ro")),
                new Spec.Mount("/workspace", "bind", "/home/user/project", List.of("bind", "rw")));
        Spec.Linux linux = new Spec.Linux(List.of(Spec.Namespace.fresh("pid"), Spec.Namespace.fresh("mount")),
                new Spec.Resources(List.of(), new Spec.Memory(1, 1), new Spec.Cpu(1, 1), new Spec.Pids(1024)),
                "/claude-cage/build-1", SECCOMP, List.of("/proc/kcore"), List.of("/proc/sys"));
        return new Spec(Spec.OCI_VERSION, process, new Spec.Root("rootfs", true), "claude-cage-build", mounts, linux);
    }

    @Test
    void aRunGetsTheImagesUserAFewCapabilitiesAndAWritableRoot() {
        Spec spec = BuildSpec.forRun(cage(), List.of("/bin/sh", "-c", "apt-get update"), List.of("PATH=/usr/bin"),
                new UserDatabase.Identity(0, 0, List.of(), "/root"), "/", List.of());
        assertEquals(new Spec.User(0, 0, List.of()), spec.process().user());
        assertEquals(BuildSpec.CAPABILITIES, spec.process().capabilities().bounding());
        assertEquals(BuildSpec.CAPABILITIES, spec.process().capabilities().effective());
        assertEquals(List.of(), spec.process().capabilities().ambient(), "a non-root USER gets none, as in Docker");
        assertFalse(spec.root().readonly());
        assertTrue(spec.process().noNewPrivileges());
        assertEquals(null, spec.process().apparmorProfile());
        assertEquals(List.of("/bin/sh", "-c", "apt-get update"), spec.process().args());
    }

    @Test
    void tmpfsAndUserMountsGoTheKernelFileSystemsAndTheResolverStay() {
        Spec spec = BuildSpec.forRun(cage(), List.of("true"), List.of(), UserDatabase.Identity.ROOT, "/", List.of());
        assertEquals(List.of("/proc", "/dev", "/sys", "/etc/resolv.conf"),
                spec.mounts().stream().map(Spec.Mount::destination).toList());
    }

    @Test
    void theStepsOwnMountsComeAfterTheKeptOnes() {
        Spec.Mount cache = new Spec.Mount("/root/.cache", "bind", "/store/cache-mounts/x", List.of("rbind", "rw"));
        Spec spec = BuildSpec.forRun(cage(), List.of("true"), List.of(), UserDatabase.Identity.ROOT, "/", List.of(cache));
        assertEquals(List.of("/proc", "/dev", "/sys", "/etc/resolv.conf", "/root/.cache"),
                spec.mounts().stream().map(Spec.Mount::destination).toList());
    }

    @Test
    void everythingElseIsTheCagesOwn() {
        Spec cage = cage();
        Spec spec = BuildSpec.forRun(cage, List.of("true"), List.of(), UserDatabase.Identity.ROOT, "/", List.of());
        assertEquals(cage.linux(), spec.linux(), "seccomp, namespaces, masked paths and limits stay");
        assertEquals(cage.process().rlimits(), spec.process().rlimits());
    }

    @Test
    void theEnvironmentIsTheImagesWithArgsAndAHome() {
        assertEquals(List.of("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8",
                        "VERSION=1", "HOME=/root"),
                BuildSandbox.environment(Map.of("LANG", "C.UTF-8"), Map.of("VERSION", "1", "LANG", "ignored"),
                        UserDatabase.Identity.ROOT));
        assertEquals(List.of("PATH=/opt/bin", "HOME=/home/claude"),
                BuildSandbox.environment(Map.of("PATH", "/opt/bin"), Map.of(),
                        new UserDatabase.Identity(1000, 1000, List.of(), "/home/claude")));
    }
}
