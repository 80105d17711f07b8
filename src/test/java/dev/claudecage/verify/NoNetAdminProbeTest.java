package dev.claudecage.verify;

import dev.claudecage.process.CommandResult;
import dev.claudecage.process.ProcessRunner;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The no-net-admin probe's verdict from what the kernel answers, the kernel's answers stubbed (perl's
 * ioctl, socket, send and recv overridden before the probe script is compiled): gVisor's kernel has
 * no SIOCSIFFLAGS (ENOTTY), which says nothing about the wall, so the probe asks through netlink, where
 * gVisor checks CAP_NET_ADMIN as Linux does (and answers EACCES where Linux answers EPERM).
 */
class NoNetAdminProbeTest {

    private static final String STUBBED_KERNEL = """
            BEGIN {
                *CORE::GLOBAL::ioctl = sub { return 1 if $_[1] != 0x8914; $! = $ENV{IOCTL_ERRNO}; return undef };
                *CORE::GLOBAL::socket = sub (*$$$) { open($_[0], '<', '/dev/null') };
                *CORE::GLOBAL::send = sub { length $_[1] };
                *CORE::GLOBAL::recv = sub { $_[1] = pack('L S S L L l', 36, 2, 0, 1, 0, -$ENV{NETLINK_ERRNO}); '' };
            }
            do $ENV{PROBES}; die $@ if $@;
            """;

    @TempDir
    Path directory;
    private Path script;

    @BeforeEach
    void copyTheProbeScript() throws Exception {
        script = directory.resolve("probes.pl");
        try (InputStream probes = VerifyFixtures.class.getResourceAsStream("probes.pl")) {
            Files.copy(probes, script);
        }
    }

    private String probe(int ioctlErrno, int netlinkErrno) {
        CommandResult result = new ProcessRunner(false).run(List.of("env", "PROBES=" + script, "IOCTL_ERRNO=" + ioctlErrno,
                "NETLINK_ERRNO=" + netlinkErrno, "perl", "-e", STUBBED_KERNEL, "no-net-admin"), Duration.ofSeconds(30));
        return result.stdout().strip();
    }

    @Test
    void aKernelWithoutSiocsifflagsIsAskedThroughNetlinkWhereEpermIsTheWallHolding() {
        assertEquals("PROBE\tno-net-admin\tblocked\tSIOCSIFFLAGS is not implemented here (ENOTTY); through netlink: "
                + "RTM_DELADDR refused: Operation not permitted", probe(25, 1));
        assertEquals("PROBE\tno-net-admin\tblocked\tSIOCSIFFLAGS is not implemented here (ENOTTY); through netlink: "
                + "RTM_DELADDR refused: Permission denied", probe(25, 13), "gVisor's netlink answers EACCES");
    }

    @Test
    void throughNetlinkAnyOtherAnswerMeansTheRequestGotPastTheCapabilityCheck() {
        assertEquals("PROBE\tno-net-admin\thole\tSIOCSIFFLAGS is not implemented here (ENOTTY); through netlink: "
                + "RTM_DELADDR reached the kernel: Cannot assign requested address", probe(25, 99));
        assertEquals("PROBE\tno-net-admin\thole\tSIOCSIFFLAGS is not implemented here (ENOTTY); through netlink: "
                + "RTM_DELADDR was accepted", probe(25, 0));
    }

    @Test
    void aKernelWithSiocsifflagsDecidesThereAndAnUnexpectedErrorStaysAnError() {
        assertEquals("PROBE\tno-net-admin\tblocked\tSIOCSIFFLAGS refused: Operation not permitted", probe(1, 0));
        assertEquals("PROBE\tno-net-admin\terror\tSIOCSIFFLAGS failed: Invalid argument", probe(22, 0));
    }
}
