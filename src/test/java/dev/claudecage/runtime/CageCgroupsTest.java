package dev.claudecage.runtime;

import dev.claudecage.CageException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CageCgroupsTest {

    @Test
    void theCgroupsARuntimeLeftAreRemovedInEveryHierarchyAndOtherCagesAreLeftAlone(@TempDir Path root) throws IOException {
        Path unified = Files.createDirectories(root.resolve("claude-cage/run-0123456789ab"));
        Path memory = Files.createDirectories(root.resolve("memory/claude-cage/run-0123456789ab"));
        Path pidsOnly = Files.createDirectories(root.resolve("pids/claude-cage"));
        Path other = Files.createDirectories(root.resolve("memory/claude-cage/run-ba9876543210"));

        CageCgroups.removeLeftovers(root, "run-0123456789ab");

        assertFalse(Files.exists(unified));
        assertFalse(Files.exists(memory));
        assertTrue(Files.isDirectory(pidsOnly), "a hierarchy without the cage's cgroup is left as it is");
        assertTrue(Files.isDirectory(other), "another cage's cgroup is not touched");
    }

    @Test
    void aCgroupThatStaysBusyIsNamedNotPassedOver(@TempDir Path root) throws IOException {
        // A directory that rmdir refuses stands in for a cgroup with a process still in it.
        Path busy = Files.createDirectories(root.resolve("cpu/claude-cage/run-0123456789ab"));
        Files.writeString(busy.resolve("still-here"), "");

        CageException error = assertThrows(CageException.class, () -> CageCgroups.removeLeftovers(root, "run-0123456789ab"));

        assertTrue(error.getMessage().contains(busy.toString()) && error.getMessage().contains("claude-cage gc"),
                error.getMessage());
    }

    @Test
    void noCgroupFileSystemIsNothingToRemove(@TempDir Path root) {
        CageCgroups.removeLeftovers(root.resolve("absent"), "run-0123456789ab");
        assertFalse(Files.exists(root.resolve("absent")));
    }
}
