package dev.claudecage.desktop;

import dev.claudecage.CageException;
import dev.claudecage.host.Directories;
import dev.claudecage.json.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Optional;

/**
 * How a desktop session is reached: where it is published and its VNC password. Made when the
 * session is created and kept, 0600, with the session's host-side state (never in the cage's
 * workspace or home); the supervisor hands the password to the cage's VNC server, {@code start}
 * and {@code status} show it.
 *
 * @param port     the {@link DesktopPort} mapping, as written by {@link DesktopPort#format()}
 * @param password the VNC password: 8 characters, the most the VNC protocol's authentication uses
 */
public record DesktopAccess(String port, String password) {

    public static final int PASSWORD_LENGTH = 8;
    private static final String ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

    public DesktopAccess {
        DesktopPort.parse(port);
        if (password == null || password.length() != PASSWORD_LENGTH
                || !password.chars().allMatch(c -> ALPHABET.indexOf(c) >= 0)) {
            throw new IllegalArgumentException("a desktop password is " + PASSWORD_LENGTH + " characters of " + ALPHABET);
        }
    }

    /** A fresh random password (about 46 bits; unambiguous letters and digits) for {@code port}. */
    public static DesktopAccess generate(DesktopPort port) {
        // Made here rather than in a static field: reading the class (status, list: every session reads its
        // access file) would otherwise start the JDK's security providers on each call, for nothing.
        SecureRandom random = new SecureRandom();
        StringBuilder password = new StringBuilder(PASSWORD_LENGTH);
        for (int i = 0; i < PASSWORD_LENGTH; i++) {
            password.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
        }
        return new DesktopAccess(port.format(), password.toString());
    }

    public DesktopPort mapping() {
        return DesktopPort.parse(port);
    }

    public void write(Path file) {
        try {
            Directories.writePrivateFile(file, Json.write(this));
        } catch (IOException e) {
            throw new CageException("cannot write the desktop's access file " + file + ": " + e.getMessage());
        }
    }

    /** The access file of a desktop session, or empty when there is none (a CLI session). */
    public static Optional<DesktopAccess> read(Path file) {
        try {
            return Optional.of(Json.read(Files.readString(file), DesktopAccess.class));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            throw new CageException("cannot read the desktop's access file " + file + ": " + e.getMessage(),
                    "destroy the session and start it again");
        }
    }
}
