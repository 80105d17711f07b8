package dev.claudecage.session;

import dev.claudecage.CageException;
import dev.claudecage.claudecode.HostLogin;
import dev.claudecage.net.gateway.ApiCredential;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Supplier;

/**
 * The user's API key travels from the start command to the supervisor's gateway, and never into
 * the cage: a key given with --api-key is written to a 0600 file in the session's 0700 folder in
 * /run (memory, not disk), which the supervisor reads and removes as it starts; otherwise the
 * supervisor finds the host's key or Claude login ({@link HostLogin}) in the environment it inherited
 * from the start command, as the start command did.
 */
public final class ApiKeyHandOff {

    private ApiKeyHandOff() {
    }

    /** Leaves the key for the supervisor. */
    public static void give(Path keyFile, Supplier<char[]> key) {
        char[] chars = key.get();
        ByteBuffer bytes = StandardCharsets.UTF_8.encode(CharBuffer.wrap(chars));
        byte[] content = new byte[bytes.remaining()];
        bytes.get(content);
        try {
            Files.deleteIfExists(keyFile);
            Files.createFile(keyFile, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
            Files.write(keyFile, content);
        } catch (IOException e) {
            throw new CageException("cannot hand the API key to the supervisor through " + keyFile + ": " + e.getMessage());
        } finally {
            Arrays.fill(chars, '\0');
            Arrays.fill(content, (byte) 0);
        }
    }

    /** Takes the key left for this supervisor (removing the file), else the host's key or login, else null. */
    static ApiCredential take(Path keyFile) {
        char[] key;
        try {
            byte[] content = Files.readAllBytes(keyFile);
            Files.delete(keyFile);
            key = StandardCharsets.UTF_8.decode(ByteBuffer.wrap(content)).toString().strip().toCharArray();
            Arrays.fill(content, (byte) 0);
        } catch (NoSuchFileException e) {
            return HostLogin.find(System.getenv()).orElse(null);
        } catch (IOException e) {
            throw new CageException("cannot read the API key left in " + keyFile + ": " + e.getMessage());
        }
        if (key == null || key.length == 0) {
            return null;
        }
        char[] held = key;
        return ApiCredential.apiKey(held::clone, "--api-key");
    }
}
