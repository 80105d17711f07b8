package dev.claudecage.desktop;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DesktopAccessTest {

    @Test
    void passwordsAreEightRandomCharacters() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            String password = DesktopAccess.generate(DesktopPort.parse(DesktopPort.DEFAULT)).password();
            assertEquals(DesktopAccess.PASSWORD_LENGTH, password.length());
            assertTrue(password.matches("[A-Za-z2-9]+"), password);
            seen.add(password);
        }
        assertEquals(200, seen.size(), "passwords repeat");
    }

    @Test
    void writtenPrivateAndReadBack(@TempDir Path dir) throws Exception {
        DesktopAccess access = DesktopAccess.generate(DesktopPort.parse("127.0.0.1:7001:6080"));
        Path file = dir.resolve("desktop.json");
        access.write(file);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals(Optional.of(access), DesktopAccess.read(file));
        assertEquals(7001, DesktopAccess.read(file).orElseThrow().mapping().hostPort());
        assertEquals(Optional.empty(), DesktopAccess.read(dir.resolve("absent.json")));
    }

    @Test
    void aDamagedFileIsAnError(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("desktop.json");
        Files.writeString(file, "{\"port\": \"127.0.0.1:6080:6080\", \"password\": \"short\"}");
        assertThrows(dev.claudecage.CageException.class, () -> DesktopAccess.read(file));
    }
}
