package dev.claudecage.identity;

import dev.claudecage.CageException;
import dev.claudecage.config.UsernsPool;
import dev.claudecage.host.IdBlock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdAllocationsTest {

    private static final long BASE = 1_879_048_192L;
    private static final IdPool TWO_BLOCKS = IdPool.of(UsernsPool.range(BASE, 2 * IdBlock.SIZE), "", "", "", "");

    @TempDir
    Path state;

    private IdAllocations allocations() {
        return new IdAllocations(state.resolve("userns"), state.resolve("userns.lock"));
    }

    @Test
    void twoCagesGetDisjointBlocksAndAThirdWaitsForOneToBeFreed() {
        IdAllocations allocations = allocations();
        IdBlock first = allocations.allocate("run-000000000001", TWO_BLOCKS);
        IdBlock second = allocations.allocate("run-000000000002", TWO_BLOCKS);
        assertNotEquals(first, second);
        assertTrue(!first.overlaps(second));
        CageException full = assertThrows(CageException.class, () -> allocations.allocate("run-000000000003", TWO_BLOCKS));
        assertTrue(full.getMessage().contains("every one of the 2 id blocks"), full.getMessage());
        allocations.release("run-000000000001");
        assertEquals(first, allocations.allocate("run-000000000003", TWO_BLOCKS), "the freed block is handed out again");
        assertEquals(Map.of("run-000000000002", second, "run-000000000003", first), allocations.recorded());
    }

    @Test
    void aBlockRecordedFromAnotherPoolIsNotHandedOutTwice() throws Exception {
        IdAllocations allocations = allocations();
        Files.createDirectories(state.resolve("userns"));
        // Held by a cage started before userns_pool changed, overlapping the new pool's first block.
        Files.writeString(state.resolve("userns/s-old-000000000009"), (BASE - 100) + " " + (BASE - 100) + "\n");
        assertEquals(new IdBlock(BASE + IdBlock.SIZE, BASE + IdBlock.SIZE), allocations.allocate("run-000000000001", TWO_BLOCKS));
    }

    @Test
    void aCageIdThatIsNoFileNameIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> allocations().allocate("../etc", TWO_BLOCKS));
    }
}
