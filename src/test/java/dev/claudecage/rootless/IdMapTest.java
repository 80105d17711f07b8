package dev.claudecage.rootless;

import dev.claudecage.CageException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdMapTest {

    @Test
    void theCagesUserIsTheInvokingUserAndEveryOtherIdIsSubordinate() {
        IdMap map = IdMap.forCage("uid", 1000, 4711, List.of(new IdRange(100000, 65536)), "/etc/subuid");
        assertEquals(List.of(new IdMap.Entry(0, 100000, 1000), new IdMap.Entry(1000, 4711, 1),
                new IdMap.Entry(1001, 101000, 64535)), map.entries());
        assertEquals(List.of("0", "100000", "1000", "1000", "4711", "1", "1001", "101000", "64535"), map.helperArguments());
        assertEquals(new IdMap.Entry(0, 100000, 1000), map.entries().get(0), "root inside is a subordinate id, never the user");
        assertEquals(IdMap.SIZE, map.entries().stream().mapToLong(IdMap.Entry::count).sum(), "0 to 65535, nobody included");
    }

    @Test
    void severalSmallRangesAreJoinedAndSplitWhereTheyEnd() {
        IdMap map = IdMap.forCage("gid", 1000, 50, List.of(new IdRange(200000, 500), new IdRange(300000, 70000)),
                "/etc/subgid");
        assertEquals(List.of(new IdMap.Entry(0, 200000, 500), new IdMap.Entry(500, 300000, 500),
                new IdMap.Entry(1000, 50, 1), new IdMap.Entry(1001, 300500, 64535)), map.entries());
    }

    @Test
    void tooFewSubordinateIdsIsAnErrorThatSaysHowToGetThem() {
        CageException error = assertThrows(CageException.class,
                () -> IdMap.forCage("uid", 1000, 4711, List.of(new IdRange(100000, 1000)), "/etc/subuid"));
        assertTrue(error.getMessage().contains("65535 subordinate uids, /etc/subuid gives this user 1000"), error.getMessage());
        assertTrue(error.hint().contains("usermod --add-subuids"), error.hint());
    }

    @Test
    void aRootCageIdIsRefused() {
        assertThrows(CageException.class,
                () -> IdMap.forCage("uid", 0, 4711, List.of(new IdRange(100000, 65536)), "/etc/subuid"));
    }

    @Test
    void subordinateRangesAreFoundByNameOrNumber() {
        String file = "# comment\nalice:100000:65536\n4711:300000:10\nbob:200000:65536\nalice:bad:1\nalice:5:0\n";
        assertEquals(List.of(new IdRange(100000, 65536), new IdRange(300000, 10)),
                SubordinateIds.parse(file, "alice", 4711));
        assertEquals(List.of(), SubordinateIds.parse(file, "carol", 1));
    }
}
