package dev.claudecage.config;

import dev.claudecage.config.MountOwnership.Decision;
import dev.claudecage.config.MountOwnership.Outcome;
import dev.claudecage.config.MountOwnership.Owner;
import dev.claudecage.config.MountOwnership.Source;
import dev.claudecage.host.HostIds;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The table of docs/security.md, "Who owns what the cage writes", row by row (attack 4 of issue 14). */
class MountOwnershipTest {

    private static final HostIds CAGE = new HostIds(1000, 1000);

    @ParameterizedTest(name = "{0} owner {1}, {2}, cage {3}: {4} {5}")
    @CsvSource(delimiter = '|', value = {
            // the sudo user, a person
            "SUDO       | 1001:1001   | rw | 1000:1000 | SHIFTED  | 1001:1001",
            "SUDO       | 1001:1001   | ro | 1000:1000 | SHIFTED  | 1001:1001",
            "SUDO       | 1000:1000   | rw | 1000:1000 | AS_IT_IS | ",
            // another person's folder, nobody ran sudo
            "PATH_OWNER | 4242:4242   | rw | 1000:1000 | SHIFTED  | 4242:4242",
            // root, however it came: refused writable, read as nobody read-only
            "PATH_OWNER | 0:0         | rw | 1000:1000 | REFUSED  | root:",
            "PATH_OWNER | 0:0         | ro | 1000:1000 | SHIFTED  | 65534:65534",
            "PATH_OWNER | 1001:0      | rw | 1000:1000 | REFUSED  | root's group:",
            "SUDO       | 0:0         | rw | 1000:1000 | REFUSED  | sudo was run by 0:0",
            "SUDO       | 0:0         | ro | 1000:1000 | SHIFTED  | 65534:65534",
            "NAMED      | 0:0         | rw | 1000:1000 | REFUSED  | mount_owner names 0:0",
            "PATH_OWNER | 0:0         | ro | 65534:65534 | AS_IT_IS | ",
            // a system account or group, guessed: the same
            "PATH_OWNER | 105:112     | rw | 1000:1000 | REFUSED  | a system account or group",
            "PATH_OWNER | 105:112     | ro | 1000:1000 | SHIFTED  | 65534:65534",
            "SUDO       | 999:999     | rw | 1000:1000 | REFUSED  | a system account or group",
            "PATH_OWNER | 1001:999    | rw | 1000:1000 | REFUSED  | a system account or group",
            "PATH_OWNER | 65534:65534 | rw | 1000:1000 | REFUSED  | a system account or group",
            // the cage's own ids are no excuse: --user 5 in a folder of uid 5 still writes as a system account
            "PATH_OWNER | 5:5         | rw | 5:5       | REFUSED  | a system account or group",
            // named: the user's word, system accounts included
            "NAMED      | 33:33       | rw | 1000:1000 | SHIFTED  | 33:33",
            "NAMED      | 4242:4242   | ro | 1000:1000 | SHIFTED  | 4242:4242",
            "NAMED      | 1000:1000   | rw | 1000:1000 | AS_IT_IS | "})
    void decidesEachCase(Source source, String owner, String mode, String cage, Outcome outcome, String detail) {
        Decision decision = MountOwnership.decide(mode.equals("ro"), new Owner(ids(owner), source), ids(cage));

        assertEquals(outcome, decision.outcome(), decision.toString());
        switch (outcome) {
            case AS_IT_IS -> assertNull(decision.onto());
            case SHIFTED -> assertEquals(ids(detail), decision.onto());
            case REFUSED -> {
                assertTrue(decision.problem().startsWith("is writable, and ") && decision.problem().contains(detail),
                        decision.problem());
                assertTrue(decision.remedy().contains("--mount-owner UID[:GID]") && decision.remedy().contains(":ro"),
                        decision.remedy());
            }
        }
    }

    @Test
    void aRefusalOfRootSaysWhatTheCageWouldLeaveThere() {
        Decision decision = MountOwnership.decide(false, new Owner(new HostIds(0, 0), Source.PATH_OWNER), CAGE);

        assertEquals("is writable, and it belongs to 0:0, root: the cage would write in it as root, and what it wrote "
                + "(a setuid program among it) would be root's on the host", decision.problem());
    }

    @Test
    void theNamedOwnerWinsOverTheSudoUserWhoWinsOverThePathsOwner() {
        HostIds named = new HostIds(2000, 2000);
        HostIds sudo = new HostIds(3000, 3000);
        HostIds path = new HostIds(4000, 4000);

        assertEquals(new Owner(named, Source.NAMED), MountOwnership.owner(named, Optional.of(sudo), path));
        assertEquals(new Owner(sudo, Source.SUDO), MountOwnership.owner(null, Optional.of(sudo), path));
        assertEquals(new Owner(path, Source.PATH_OWNER), MountOwnership.owner(null, Optional.empty(), path));
    }

    @Test
    void whatTheCageWritesBelongsToTheShiftedOwnerOrTheCagesOwnIds() {
        HostIds person = new HostIds(4242, 4242);

        assertEquals(person, MountOwnership.decide(false, new Owner(person, Source.SUDO), CAGE).writer(CAGE));
        assertEquals(CAGE, MountOwnership.decide(false, new Owner(CAGE, Source.SUDO), CAGE).writer(CAGE));
        assertNull(MountOwnership.decide(false, new Owner(new HostIds(0, 0), Source.SUDO), CAGE).writer(CAGE));
    }

    @Test
    void aCheckoutMadeForTheCageBelongsToWhomTheCageMayWriteAsElseToTheCage() {
        HostIds person = new HostIds(4242, 4242);

        assertEquals(new HostIds(33, 33), MountOwnership.checkoutOwner(new HostIds(33, 33), Optional.of(person), CAGE));
        assertEquals(person, MountOwnership.checkoutOwner(null, Optional.of(person), CAGE));
        assertEquals(CAGE, MountOwnership.checkoutOwner(null, Optional.of(new HostIds(0, 0)), CAGE));
        assertEquals(CAGE, MountOwnership.checkoutOwner(null, Optional.of(new HostIds(999, 999)), CAGE));
        assertEquals(CAGE, MountOwnership.checkoutOwner(null, Optional.empty(), CAGE));
    }

    private static HostIds ids(String text) {
        String[] parts = text.split(":");
        return new HostIds(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]));
    }
}
