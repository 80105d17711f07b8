package dev.claudecage.host;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DirectoriesTest {

    @Test
    void aTemporaryFolderIsRemovedWithNothingToTell(@TempDir Path dir) throws IOException {
        Path work = Files.createDirectories(dir.resolve("work/inner"));
        Files.writeString(work.resolve("file"), "x");
        List<String> problems = new ArrayList<>();

        Directories.deleteRecursively(dir.resolve("work"), problems::add);

        assertFalse(Files.exists(dir.resolve("work")));
        assertEquals(List.of(), problems);
    }

    @Test
    void aFolderThatCannotBeRemovedIsToldNotThrown(@TempDir Path dir) throws IOException {
        // Its parent is a regular file: the folder cannot be opened, so the removal fails.
        Path notAFolder = Files.writeString(dir.resolve("file"), "x");
        List<String> problems = new ArrayList<>();

        Directories.deleteRecursively(notAFolder.resolve("work"), problems::add);

        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("could not remove " + notAFolder.resolve("work") + ": "), problems.get(0));
        assertTrue(Files.isRegularFile(notAFolder));
    }
}
