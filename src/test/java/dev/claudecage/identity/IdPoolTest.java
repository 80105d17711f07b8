package dev.claudecage.identity;

import dev.claudecage.config.UsernsPool;
import dev.claudecage.host.IdBlock;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdPoolTest {

    private static final String PASSWD = "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n"
            + "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
    private static final String GROUP = "root:x:0:\nalice:x:1000:\n";
    private static final long BASE = 1_879_048_192L;

    @Test
    void theAccountsSubordinateIdsAreCutIntoBlocksOfAllTheIdsOfACage() {
        String subids = "alice:100000:65536\nclaude-cage:" + BASE + ":" + (3 * IdBlock.SIZE + 100) + "\n";
        IdPool pool = IdPool.of(UsernsPool.ACCOUNT, subids, subids, PASSWD, GROUP);
        assertEquals(List.of(new IdBlock(BASE, BASE), new IdBlock(BASE + IdBlock.SIZE, BASE + IdBlock.SIZE),
                new IdBlock(BASE + 2 * IdBlock.SIZE, BASE + 2 * IdBlock.SIZE)), pool.blocks());
        assertNull(pool.missing());
    }

    @Test
    void uidAndGidBlocksPairInOrderAcrossRanges() {
        String subuid = "claude-cage:" + BASE + ":" + IdBlock.SIZE + "\nclaude-cage:" + (2 * BASE) + ":" + IdBlock.SIZE + "\n";
        String subgid = "claude-cage:" + (BASE + 7) + ":" + (2 * IdBlock.SIZE) + "\n";
        IdPool pool = IdPool.of(UsernsPool.ACCOUNT, subuid, subgid, PASSWD, GROUP);
        assertEquals(List.of(new IdBlock(BASE, BASE + 7), new IdBlock(2 * BASE, BASE + 7 + IdBlock.SIZE)), pool.blocks());
    }

    @Test
    void withoutTheAccountsIdsThereIsNoPoolAndTheReasonSaysWhatToDo() {
        IdPool pool = IdPool.of(UsernsPool.ACCOUNT, "alice:100000:65536\n", "", PASSWD, GROUP);
        assertTrue(pool.blocks().isEmpty());
        assertTrue(pool.missing().contains("no subordinate uids for the claude-cage account in /etc/subuid"), pool.missing());
        assertTrue(pool.missing().contains("install-deps"), pool.missing());
    }

    @Test
    void aBlockHoldingAHostAccountOrAnotherUsersRangeIsNeverHandedOut() {
        // The range starts at 0: its first block holds root, alice and nobody.
        String subids = "claude-cage:0:" + (3 * IdBlock.SIZE) + "\nbob:" + (2 * IdBlock.SIZE + 5) + ":10\n";
        IdPool pool = IdPool.of(UsernsPool.ACCOUNT, subids, subids, PASSWD, GROUP);
        assertEquals(List.of(new IdBlock(IdBlock.SIZE, IdBlock.SIZE)), pool.blocks());
    }

    @Test
    void aConfiguredRangeIsUsedForUidsAndGidsAlike() {
        IdPool pool = IdPool.of(UsernsPool.range(BASE, 2 * IdBlock.SIZE), "", "", PASSWD, GROUP);
        assertEquals(List.of(new IdBlock(BASE, BASE), new IdBlock(BASE + IdBlock.SIZE, BASE + IdBlock.SIZE)), pool.blocks());
        assertEquals("userns_pool " + BASE + ":" + (2 * IdBlock.SIZE), pool.source());
    }

    @Test
    void offMeansNoPool() {
        IdPool pool = IdPool.of(UsernsPool.OFF, "claude-cage:" + BASE + ":65536\n", "claude-cage:" + BASE + ":65536\n",
                PASSWD, GROUP);
        assertTrue(pool.blocks().isEmpty());
        assertEquals("userns_pool is off", pool.missing());
    }

    @Test
    void aCagesIdsAreItsBlocksFromItsOwnIds() {
        IdBlock block = new IdBlock(BASE, BASE + 10);
        assertEquals(new dev.claudecage.host.HostIds((int) (BASE + 1000), (int) (BASE + 1010)),
                block.host(new dev.claudecage.host.HostIds(1000, 1000)));
        assertTrue(block.overlaps(new IdBlock(BASE + IdBlock.SIZE - 1, 1)), "sharing one uid is overlapping");
        assertTrue(!block.overlaps(new IdBlock(BASE + IdBlock.SIZE, BASE + 10 + IdBlock.SIZE)));
        assertEquals(block, IdBlock.parse(block.format()));
    }
}
