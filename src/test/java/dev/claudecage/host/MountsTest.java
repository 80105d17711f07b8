package dev.claudecage.host;

import dev.claudecage.CageException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The mount system calls' decisions and words; mounting for real is the ITs' (RunIT, MountOwnershipIT). */
class MountsTest {

    @Test
    void whatIsNotMountedOrNotThereIsGoneAlready(@TempDir Path dir) {
        // As `umount` saying "not mounted" or "No such file" was (CommandResult.succeededOrGone).
        assertDoesNotThrow(() -> Mounts.SYSTEM_CALLS.unmount(dir, false, "a test folder"));
        assertDoesNotThrow(() -> Mounts.SYSTEM_CALLS.unmount(dir.resolve("missing"), false, "a test folder"));
    }

    @Test
    void aRefusedMountSaysWhatWhereAndWhy(@TempDir Path dir) {
        // Nothing is mounted: the only layer does not exist (ENOENT as root, EPERM otherwise).
        Path target = dir.resolve("root");
        CageException failure = assertThrows(CageException.class, () -> {
            Files.createDirectory(target);
            Mounts.SYSTEM_CALLS.overlay("lowerdir=" + dir.resolve("no-such-layer"), target, "the root of cage test");
        });
        String message = failure.getMessage();
        assertTrue(message.startsWith("cannot mount the root of cage test at " + target + ": "), message);
        assertTrue(message.matches(".*\\((ENOENT|EPERM), errno \\d+\\)$"), message);
        assertTrue(failure.hint().contains("no-such-layer"), failure.hint());
        assertFalse(isMountPoint(target), "a refused mount left nothing");
    }

    @Test
    void errnoNamesComeFromTheBindingsConstants() {
        assertEquals("EBUSY", LinuxSyscalls.errnoName(LinuxSyscalls.EBUSY).orElseThrow());
        assertEquals("ENOENT", LinuxSyscalls.errnoName(2).orElseThrow());
        assertTrue(LinuxSyscalls.errnoName(4095).isEmpty());
    }

    private static boolean isMountPoint(Path path) {
        try {
            return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                    .anyMatch(line -> line.split(" ")[4].equals(path.toString()));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
