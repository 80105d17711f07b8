package dev.claudecage.host;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HexFormat;

/**
 * The random part of the names claude-cage makes (a cage's id, a temporary file's or folder's name): read from
 * the kernel's random source, which is what {@code SecureRandom}'s default on Linux (NativePRNG) reads too, but
 * without starting the JDK's security providers for it (their list, the Sun provider's entries, a SHA1PRNG
 * seeded to mix with): in a one-shot run nothing else needs them.
 */
public final class RandomNames {

    private static final String SOURCE = "/dev/urandom";

    private RandomNames() {
    }

    /** {@code bytes} random bytes in hex. */
    public static String hex(int bytes) {
        byte[] random = new byte[bytes];
        try (InputStream source = new FileInputStream(SOURCE)) {
            if (source.readNBytes(random, 0, bytes) != bytes) {
                throw new IOException("it ended early");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read random bytes from " + SOURCE + ": " + e.getMessage(), e);
        }
        return HexFormat.of().formatHex(random);
    }
}
