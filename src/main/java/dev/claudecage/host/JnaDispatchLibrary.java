package dev.claudecage.host;

import com.sun.jna.Platform;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Build and install time only ({@code bench/cds.sh}): unpacks JNA's native part for this platform
 * from the jar into a folder, so that the launcher can name that folder
 * ({@code -Djna.boot.library.path}) and JNA loads the library from there. Otherwise every JVM that
 * first uses the C library binding copies the library out of the jar into a temporary file, loads
 * it and deletes it again: about 10 ms of CPU on the way to a cage with ids of its own.
 * <p>
 * Usage: {@code java -cp claude-cage.jar dev.claudecage.host.JnaDispatchLibrary FOLDER}
 */
public final class JnaDispatchLibrary {

    private JnaDispatchLibrary() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: java -cp claude-cage.jar " + JnaDispatchLibrary.class.getName() + " FOLDER");
            System.exit(2);
        }
        Path folder = Path.of(args[0]);
        // Where JNA itself looks in its jar (Native.loadNativeDispatchLibraryFromClasspath).
        String name = System.mapLibraryName("jnidispatch");
        String resource = "/com/sun/jna/" + Platform.RESOURCE_PREFIX + "/" + name;
        try (InputStream library = JnaDispatchLibrary.class.getResourceAsStream(resource)) {
            if (library == null) {
                System.err.println("the jar holds no " + resource + " for this platform");
                System.exit(1);
            }
            Files.createDirectories(folder);
            Path temporary = Files.createTempFile(folder, "." + name, ".new");
            Files.copy(library, temporary, StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString("rw-r--r--"));
            Files.move(temporary, folder.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
