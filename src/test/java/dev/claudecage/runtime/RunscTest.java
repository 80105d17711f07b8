package dev.claudecage.runtime;

import dev.claudecage.config.NetworkMode;
import dev.claudecage.oci.Spec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunscTest {

    private static final Spec.SeccompSyscall CLONE3_ENOSYS = new Spec.SeccompSyscall(List.of("clone3"), "SCMP_ACT_ERRNO",
            38, null);
    private static final Spec.SeccompSyscall READ = new Spec.SeccompSyscall(List.of("read"), "SCMP_ACT_ALLOW", null, null);
    private static final Spec.SeccompSyscall MOUNT_EPERM = new Spec.SeccompSyscall(List.of("mount"), "SCMP_ACT_ERRNO",
            1, null);
    private static final Spec.Mount PROC = new Spec.Mount("/proc", "proc", "proc", List.of("nosuid", "noexec", "nodev"));
    private static final Spec.Mount SYS = new Spec.Mount("/sys", "sysfs", "sysfs", List.of("nosuid", "noexec", "nodev",
            "ro"));

    private static Spec spec(List<Spec.Namespace> namespaces, List<Spec.SeccompSyscall> rules) {
        return new Spec(Spec.OCI_VERSION, new Spec.Process(false, new Spec.User(1000, 1000, List.of()), List.of("true"),
                List.of(), "/", Spec.Capabilities.none(), List.of(), true, null, null), new Spec.Root("rootfs", true), "h",
                List.of(), new Spec.Linux(namespaces, null, null, new Spec.Seccomp("SCMP_ACT_ERRNO", 1,
                List.of("SCMP_ARCH_X86_64"), rules), List.of(), List.of()));
    }

    @Test
    void aPreparedNamespaceIsUsedThroughGvisorsOwnStackAndAFreshOneIsItsLoopbackAlone() {
        assertEquals("sandbox", Runsc.network(spec(List.of(new Spec.Namespace("network", "/run/netns/claude-cage-x")),
                List.of())));
        assertEquals("none", Runsc.network(spec(List.of(Spec.Namespace.fresh("network")), List.of())));
        assertEquals("host", Runsc.network(spec(List.of(Spec.Namespace.fresh("pid")), List.of())));
    }

    @Test
    void runOptionsLoadTheSpecsSeccompFilterIntoTheSentry() {
        assertEquals(new OciRuntime.RunOptions(List.of(), List.of("--platform=ptrace", "--network=none", "--oci-seccomp")),
                Runsc.runOptions("ptrace", spec(List.of(Spec.Namespace.fresh("network")), List.of())));
    }

    @Test
    void inAPreparedNamespaceRunscStaysInTheHostsWhereItsControlSocketIsFoundAndTheMarkIsHiddenAsTheCagesShowsIt() {
        OciRuntime.RunOptions options = Runsc.runOptions("ptrace",
                spec(List.of(new Spec.Namespace("network", "/run/netns/claude-cage-x")), List.of()));
        assertEquals(List.of("--platform=ptrace", "--network=sandbox", "--oci-seccomp"), options.flags());
        assertEquals(List.of("unshare", "--mount", "--propagation", "slave", "sh", "-c",
                "nsenter --net=\"$1\" mount -t proc -o ro,nosuid,nodev,noexec claude-cage-runsc /proc/sys/net/core"
                        + " && shift && exec \"$@\"",
                "runsc-launcher", "/run/netns/claude-cage-x"), options.launcher());
    }

    @Test
    void theHostsNetworkAndAGatewayElsewhereAreRefusedWithTheReasonAndFilteredAndNoneRun() {
        assertEquals(null, Runsc.unsupportedNetwork(NetworkMode.NONE, false));
        assertEquals(null, Runsc.unsupportedNetwork(NetworkMode.FILTERED, false));
        assertTrue(Runsc.unsupportedNetwork(NetworkMode.HOST, false).contains("EAGAIN"));
        assertTrue(Runsc.unsupportedNetwork(NetworkMode.FILTERED, true).contains("gateway:ADDRESS"));
    }

    @Test
    void clone3IsLeftToTheSentryWhichAnswersEnosysWhereItsSeccompWouldAnswerEperm() {
        Spec adapted = Runsc.adapt(spec(List.of(), List.of(READ, CLONE3_ENOSYS, MOUNT_EPERM)));
        assertEquals(List.of(READ, new Spec.SeccompSyscall(List.of("clone3"), "SCMP_ACT_ALLOW", null, null), MOUNT_EPERM),
                adapted.linux().seccomp().syscalls());
    }

    @Test
    void pselect6GetsGvisorsNameBesideItSoThatSelectIsNotRefused() {
        Spec.SeccompSyscall polls = new Spec.SeccompSyscall(List.of("poll", "pselect6"), "SCMP_ACT_ALLOW", null, null);
        assertEquals(List.of(new Spec.SeccompSyscall(List.of("poll", "pselect6", "pselect"), "SCMP_ACT_ALLOW", null, null)),
                Runsc.adapt(spec(List.of(), List.of(polls))).linux().seccomp().syscalls());
    }

    @Test
    void anEnosysRuleForACallGvisorImplementsIsKept() {
        Spec.SeccompSyscall openat2 = new Spec.SeccompSyscall(List.of("openat2"), "SCMP_ACT_ERRNO", 38, null);
        assertEquals(List.of(openat2), Runsc.adapt(spec(List.of(), List.of(openat2))).linux().seccomp().syscalls());
    }

    private static Spec specWith(Spec.Capabilities capabilities, List<Spec.Mount> mounts, List<String> maskedPaths,
                                 List<String> readonlyPaths, List<Spec.SeccompSyscall> rules) {
        Spec plain = spec(List.of(), rules);
        return plain.withProcess(plain.process().withCapabilities(capabilities)).withMounts(mounts)
                .withLinux(plain.linux().withMaskedPaths(maskedPaths).withReadonlyPaths(readonlyPaths));
    }

    private static List<Spec.SeccompSyscall> allowedOnlyFor(String call, int modeArgument) {
        return List.of(0, 0100000, 0010000, 0140000).stream().map(fileType -> new Spec.SeccompSyscall(List.of(call),
                "SCMP_ACT_ALLOW", null, List.of(new Spec.SeccompArg(modeArgument, 0170000, fileType,
                "SCMP_CMP_MASKED_EQ")))).toList();
    }

    @Test
    void withoutCapMknodTheFilterRefusesDeviceNodesWhichGvisorWouldMakeForAnyone() {
        Spec.SeccompSyscall files = new Spec.SeccompSyscall(List.of("read", "mknod", "mknodat"), "SCMP_ACT_ALLOW", null,
                null);
        List<Spec.SeccompSyscall> expected = new ArrayList<>(List.of(READ));
        expected.addAll(allowedOnlyFor("mknod", 1));
        expected.addAll(allowedOnlyFor("mknodat", 2));
        assertEquals(expected, Runsc.adapt(specWith(Spec.Capabilities.none(), List.of(), List.of(), List.of(),
                List.of(files))).linux().seccomp().syscalls());
    }

    @Test
    void withCapMknodInTheSpecMknodIsLeftAsTheProfileAllowsIt() {
        Spec.SeccompSyscall files = new Spec.SeccompSyscall(List.of("read", "mknod", "mknodat"), "SCMP_ACT_ALLOW", null,
                null);
        assertEquals(List.of(files), Runsc.adapt(specWith(Spec.Capabilities.all(List.of("CAP_MKNOD")), List.of(),
                List.of(), List.of(), List.of(files))).linux().seccomp().syscalls());
    }

    @Test
    void aReadOnlyPathInProcMakesGvisorsWholeProcReadOnlyAsItHonoursNoReadonlyPaths() {
        Spec adapted = Runsc.adapt(specWith(Spec.Capabilities.none(), List.of(PROC, SYS), List.of(),
                List.of("/proc/sys", "/proc/sysrq-trigger"), List.of()));
        assertEquals(List.of(new Spec.Mount("/proc", "proc", "proc", List.of("nosuid", "noexec", "nodev", "ro")), SYS),
                adapted.mounts());
        assertEquals(List.of(PROC, SYS), Runsc.adapt(specWith(Spec.Capabilities.none(), List.of(PROC, SYS), List.of(),
                List.of(), List.of())).mounts(), "without read-only paths (their control) /proc stays writable");
    }

    @Test
    void theMaskedDirectoriesGvisorShowsAreCoveredByAnEmptyReadOnlyTmpfsAndTheOthersNeedNothing() {
        Spec adapted = Runsc.adapt(specWith(Spec.Capabilities.none(), List.of(PROC, SYS),
                List.of("/proc/kcore", "/sys/firmware"), List.of(), List.of()));
        assertEquals(List.of(PROC, SYS, new Spec.Mount("/sys/firmware", "tmpfs", "tmpfs",
                List.of("ro", "nosuid", "noexec", "nodev", "mode=0555"))), adapted.mounts());
        assertEquals(List.of(PROC, SYS), Runsc.adapt(specWith(Spec.Capabilities.none(), List.of(PROC, SYS), List.of(),
                List.of(), List.of())).mounts(), "without masked paths (their control) nothing is covered");
    }

    @Test
    void autoPicksKvmOnlyWhereAProbeProvedIt(@TempDir Path runtimeState) throws Exception {
        assertEquals("ptrace", RunscPlatforms.choose("auto", runtimeState));
        assertEquals("kvm", RunscPlatforms.choose("kvm", runtimeState), "a platform the user names is used as named");
        Files.writeString(runtimeState.resolve("runsc-kvm-works"), "ran true in 80 ms\n");
        assertEquals("kvm", RunscPlatforms.choose("auto", runtimeState));
    }
}
