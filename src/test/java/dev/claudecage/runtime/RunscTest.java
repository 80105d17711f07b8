package dev.claudecage.runtime;

import dev.claudecage.config.NetworkMode;
import dev.claudecage.oci.Spec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunscTest {

    private static final Spec.SeccompSyscall CLONE3_ENOSYS = new Spec.SeccompSyscall(List.of("clone3"), "SCMP_ACT_ERRNO",
            38, null);
    private static final Spec.SeccompSyscall READ = new Spec.SeccompSyscall(List.of("read"), "SCMP_ACT_ALLOW", null, null);
    private static final Spec.SeccompSyscall MOUNT_EPERM = new Spec.SeccompSyscall(List.of("mount"), "SCMP_ACT_ERRNO",
            1, null);

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
    void inAPreparedNamespaceRunscStartsThereWithTheRootNamespaceMarkHiddenInAMountNamespaceOfItsOwn() {
        OciRuntime.RunOptions options = Runsc.runOptions("ptrace",
                spec(List.of(new Spec.Namespace("network", "/run/netns/claude-cage-x")), List.of()));
        assertEquals(List.of("--platform=ptrace", "--network=sandbox", "--oci-seccomp"), options.flags());
        assertEquals(List.of("nsenter", "--net=/run/netns/claude-cage-x", "unshare", "--mount", "--propagation", "slave",
                "sh", "-c", "mount -t tmpfs -o ro,size=4k,mode=0555 claude-cage-runsc /proc/sys/net/core && exec \"$@\"",
                "runsc-launcher"), options.launcher());
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

    @Test
    void autoPicksKvmOnlyWhereAProbeProvedIt(@TempDir Path runtimeState) throws Exception {
        assertEquals("ptrace", RunscPlatforms.choose("auto", runtimeState));
        assertEquals("kvm", RunscPlatforms.choose("kvm", runtimeState), "a platform the user names is used as named");
        Files.writeString(runtimeState.resolve("runsc-kvm-works"), "ran true in 80 ms\n");
        assertEquals("kvm", RunscPlatforms.choose("auto", runtimeState));
    }
}
