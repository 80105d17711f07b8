package dev.claudecage.it;

import dev.claudecage.host.Host;
import dev.claudecage.host.HostIds;
import dev.claudecage.identity.IdShift;
import dev.claudecage.identity.IdShifts;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * One shifting namespace per distinct shift: an equal shift, made anew, gets the namespace made for
 * the first; shifts that differ in their uids only, or in their gids only, get namespaces of their
 * own. Needs root.
 */
class IdShiftsIT {

    @BeforeEach
    void needsRoot() {
        Assumptions.assumeTrue(Host.effectiveUid() == 0, "only root may map ids it does not hold");
    }

    @Test
    void anEqualShiftSharesItsNamespaceAndADifferentOneHasItsOwn() throws IOException {
        try (IdShifts shifts = new IdShifts()) {
            int first = shifts.namespace(IdShift.onto(new HostIds(1000, 1000), new HostIds(200_000, 200_000)));
            int same = shifts.namespace(IdShift.onto(new HostIds(1000, 1000), new HostIds(200_000, 200_000)));
            int otherUids = shifts.namespace(IdShift.onto(new HostIds(1001, 1000), new HostIds(200_000, 200_000)));
            int otherGids = shifts.namespace(IdShift.onto(new HostIds(1000, 1001), new HostIds(200_000, 200_000)));
            assertEquals(first, same, "an equal shift is the same namespace");
            assertNotEquals(namespace(first), namespace(otherUids), "other uids: a namespace of its own");
            assertNotEquals(namespace(first), namespace(otherGids), "other gids: a namespace of its own");
            assertNotEquals(namespace(otherUids), namespace(otherGids));
        }
    }

    private static String namespace(int fd) throws IOException {
        return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
    }
}
