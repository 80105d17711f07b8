package dev.claudecage.it;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;

/** Test folders set up the way a user's own checkout is: owned by a host user who is neither root nor the cage. */
final class HostFolders {

    /** A host account that is neither root nor the cage's uid 1000. */
    static final int OWNER = 4242;

    private HostFolders() {
    }

    /**
     * Gives the folder and everything in it to {@link #OWNER} (links themselves, never their targets) and
     * opens its parent so the cage's runtime can reach it, as a checkout under a user's home would be.
     */
    static void ownByAUser(Path folder) throws Exception {
        try (Stream<Path> all = Files.walk(folder)) {
            for (Path path : all.toList()) {
                Files.setAttribute(path, "unix:uid", OWNER, LinkOption.NOFOLLOW_LINKS);
                Files.setAttribute(path, "unix:gid", OWNER, LinkOption.NOFOLLOW_LINKS);
            }
        }
        Files.setPosixFilePermissions(folder.getParent(), PosixFilePermissions.fromString("rwxr-xr-x"));
    }
}
