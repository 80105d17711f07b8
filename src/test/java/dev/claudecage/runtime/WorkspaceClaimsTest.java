package dev.claudecage.runtime;

import dev.claudecage.CageException;
import dev.claudecage.config.MountSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 14, attack 3: two cages writing one folder would lift each other's workspace wall. */
class WorkspaceClaimsTest {

    @TempDir
    Path dir;

    private static WorkspaceClaims.FileId id(long inode) {
        return new WorkspaceClaims.FileId(1, inode);
    }

    /** A folder /(1)/home(2)/user(3)/... by inodes, the folder itself first. */
    private static WorkspaceClaims.Folder folder(String path, long... inodesFromItselfUp) {
        List<WorkspaceClaims.FileId> chain = new ArrayList<>();
        for (long inode : inodesFromItselfUp) {
            chain.add(id(inode));
        }
        return new WorkspaceClaims.Folder(path, chain);
    }

    @Test
    void theSameFolderAndFoldersInsideEachOtherOverlapSiblingsDoNot() {
        WorkspaceClaims.Folder project = folder("/home/u/project", 4, 3, 2, 1);
        WorkspaceClaims.Folder sameByAnotherName = folder("/mnt/project", 4, 9, 1);
        WorkspaceClaims.Folder sub = folder("/home/u/project/sub", 5, 4, 3, 2, 1);
        WorkspaceClaims.Folder sibling = folder("/home/u/other", 6, 3, 2, 1);
        WorkspaceClaims.Claim session = new WorkspaceClaims.Claim("s-a-0123456789ab", List.of(project));

        assertEquals(project, WorkspaceClaims.conflict(List.of(sameByAnotherName), List.of(session)).orElseThrow().theirs());
        assertTrue(WorkspaceClaims.conflict(List.of(sub), List.of(session)).isPresent(), "a folder inside theirs");
        assertTrue(WorkspaceClaims.conflict(List.of(folder("/home/u", 3, 2, 1)), List.of(session)).isPresent(),
                "a folder holding theirs");
        assertFalse(WorkspaceClaims.conflict(List.of(sibling), List.of(session)).isPresent());
        assertFalse(WorkspaceClaims.conflict(List.of(sibling), List.of()).isPresent());
    }

    @Test
    void ownersAreNamedAsTheUserKnowsThem() {
        assertEquals("session my-work", WorkspaceClaims.owner("s-my-work-0123456789ab"));
        assertEquals("cage run-0123456789ab (a 'claude-cage run')", WorkspaceClaims.owner("run-0123456789ab"));
        assertEquals("cage verify-0123456789ab", WorkspaceClaims.owner("verify-0123456789ab"));
    }

    @Test
    void aSecondCageOnAFolderAnotherWritesIsRefusedUntilTheFirstIsGone() throws Exception {
        StatePaths paths = new StatePaths(dir.resolve("run/runtime"), dir.resolve("run/runs"));
        Path project = Files.createDirectory(dir.resolve("project"));
        Path sub = Files.createDirectory(project.resolve("sub"));
        Path link = Files.createSymbolicLink(dir.resolve("link"), project);
        Path other = Files.createDirectory(dir.resolve("other"));

        assertTrue(WorkspaceClaims.claim(paths, "s-a-0123456789ab", List.of(new MountSpec(project, "/workspace", false))));

        CageException refused = assertThrows(CageException.class, () -> WorkspaceClaims.claim(paths,
                "s-b-0123456789ab", List.of(new MountSpec(link, "/workspace", false))));
        assertTrue(refused.getMessage().startsWith("session a writes " + project + " already, so this cage cannot write "
                + "it too"), refused.getMessage());
        assertTrue(refused.hint().contains("--clone") && refused.hint().contains("--mount " + link + ":/workspace:ro"),
                refused.hint());
        CageException nested = assertThrows(CageException.class, () -> WorkspaceClaims.claim(paths,
                "run-0123456789ab", List.of(new MountSpec(sub, "/workspace", false))));
        assertTrue(nested.getMessage().startsWith("session a writes " + project + " already, and " + sub
                + ", which this cage would write, is inside it"), nested.getMessage());
        CageException holding = assertThrows(CageException.class, () -> WorkspaceClaims.claim(paths,
                "run-0123456789ac", List.of(new MountSpec(dir, "/workspace", false))));
        assertTrue(holding.getMessage().startsWith("session a writes " + project + " already, and it is inside " + dir),
                holding.getMessage());
        // Positive controls: the same folder read-only, and another folder, are no second writer.
        assertFalse(WorkspaceClaims.claim(paths, "s-c-0123456789ab", List.of(new MountSpec(project, "/workspace", true))));
        assertTrue(WorkspaceClaims.claim(paths, "s-d-0123456789ab", List.of(new MountSpec(other, "/workspace", false))));

        WorkspaceClaims.release(paths, "s-a-0123456789ab");
        assertTrue(WorkspaceClaims.claim(paths, "s-b-0123456789ab", List.of(new MountSpec(link, "/workspace", false))));
    }

    @Test
    void ofConcurrentClaimsOnOneFolderExactlyOneWins() throws Exception {
        StatePaths paths = new StatePaths(dir.resolve("run/runtime"), dir.resolve("run/runs"));
        Path project = Files.createDirectory(dir.resolve("project"));
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Boolean>> attempts = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                String cage = "run-00000000000" + i;
                Callable<Boolean> attempt = () -> {
                    try {
                        return WorkspaceClaims.claim(paths, cage, List.of(new MountSpec(project, "/workspace", false)));
                    } catch (CageException refused) {
                        return false;
                    }
                };
                attempts.add(pool.submit(attempt));
            }
            int won = 0;
            for (Future<Boolean> attempt : attempts) {
                won += attempt.get() ? 1 : 0;
            }
            assertEquals(1, won);
        } finally {
            pool.shutdownNow();
        }
    }
}
