package dev.claudecage.verify;

import dev.claudecage.host.HostIds;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdentityCheckTest {

    @Test
    void aMapsLinesAreWrittenAsTheProbeWritesThem() {
        assertEquals("0:1879048192:65536", IdentityCheck.inlineMap("         0 1879048192      65536\n"));
        assertEquals("0:0:1,1:100000:65535", IdentityCheck.inlineMap("0 0 1\n1 100000 65535\n"));
    }

    /** Under gVisor the verdict comes from the file server's maps: one that maps the cage onto host uid 1000 is a hole. */
    @Test
    void aFileServerWithTheHostsIdsLeavesTheCageWithoutIdsOfItsOwn() {
        Verifier.Finding hostSide = IdentityCheck.hostSideUnderGvisor(ProcessHandle.current().pid(), new HostIds(1000, 1000));
        assertEquals(Outcome.BLOCKED, hostSide.outcome(), hostSide.detail());
        assertTrue(hostSide.detail().contains("uid=1000 gid=1000 uid_map=0:0:4294967295"), hostSide.detail());
        Verifier.Finding judged = IdentityCheck.judgeOwnIds(hostSide, null, new HostIds(0, 0),
                "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n", "alice:x:1000:\n");
        assertEquals(Outcome.HOLE, judged.outcome(), judged.detail());
        assertTrue(judged.detail().contains("uid 1000 is the host account alice"), judged.detail());
    }

    /** The file server is the runsc gofer that serves the cage's bundle, not another cage's nor another process. */
    @Test
    void theFileServerIsTheRunscGoferOfTheCagesBundle() throws Exception {
        Path bundle = Path.of("/run/claude-cage/runs/verify-0123456789ab/bundle");
        Process other = new ProcessBuilder("bash", "-c", "exec -a runsc-gofer bash -c 'sleep 30; exit' x --bundle /elsewhere/bundle")
                .start();
        Process notGofer = new ProcessBuilder("bash", "-c", "exec -a runsc-sandbox bash -c 'sleep 30; exit' x --bundle " + bundle)
                .start();
        Process gofer = new ProcessBuilder("bash", "-c", "exec -a runsc-gofer bash -c 'sleep 30; exit' x --bundle " + bundle).start();
        try {
            Optional<Long> found = Optional.empty();
            for (int tries = 0; tries < 50 && !found.equals(Optional.of(gofer.pid())); tries++) {
                // Until bash has become the gofer.
                Thread.sleep(20);
                found = IdentityCheck.fileServerOf(bundle);
            }
            assertEquals(Optional.of(gofer.pid()), found);
            assertEquals(Optional.empty(), IdentityCheck.fileServerOf(Path.of("/run/claude-cage/runs/none/bundle")));
        } finally {
            for (Process process : List.of(other, notGofer, gofer)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
    }
}
