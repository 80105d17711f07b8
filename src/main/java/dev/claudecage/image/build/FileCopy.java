package dev.claudecage.image.build;

import dev.claudecage.image.dockerfile.DockerIgnore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * COPY and WORKDIR on a step's mounted root, with Docker's rules: a source directory's contents
 * go into the destination; a file goes into a destination that ends in '/' or is a directory,
 * else becomes it; missing parents are made, 0755, root's or, with --chown, that owner's (as
 * BuildKit makes them). Every path in the image is
 * resolved with {@link RootedPath}, so links in the image (or in the sources) never lead out of
 * the root, and existing links to directories are written through, as the image sees them.
 */
final class FileCopy {

    private static final int DIRECTORY_MODE = 0755;

    private FileCopy() {
    }

    /**
     * @param owner    the owner of everything copied, or null to keep the source's (COPY --from)
     * @param mode     --chmod for everything copied, or null to keep the source's permissions
     * @param excludes COPY --exclude: paths below a directory source (relative to it) that are left out
     */
    static void copy(Path root, SourceTree source, List<String> entries, String destination,
                     UserDatabase.Identity owner, Integer mode, DockerIgnore excludes) throws IOException {
        boolean intoDirectory = destination.endsWith("/") || entries.size() > 1;
        for (String entry : entries) {
            Path from = source.hostPath(entry);
            if (Files.isDirectory(from, LinkOption.NOFOLLOW_LINKS)) {
                makeDirectory(root, destination, owner == null ? ownerOf(from) : owner, mode, owner);
                for (String child : source.tree(entry)) {
                    String relative = child.equals(entry) ? "" : entry.isEmpty() ? child : child.substring(entry.length() + 1);
                    if (!relative.isEmpty() && !excludes.excludes(relative)) {
                        copyEntry(root, source.hostPath(child), join(destination, relative), owner, mode);
                    }
                }
            } else {
                String target = intoDirectory || RootedPath.isDirectory(root, destination)
                        ? join(destination, Path.of(entry).getFileName().toString()) : destination;
                makeDirectory(root, parent(target), owner, null, owner);
                copyEntry(root, from, target, owner, mode);
            }
        }
    }

    /**
     * Makes {@code path} (and its parents) a directory in the image, as WORKDIR and COPY do;
     * true when anything had to be made. A directory made for {@code path} itself gets
     * {@code owner} and {@code mode}; parents made on the way get {@code parentOwner} (root's
     * when null) and 0755.
     */
    static boolean makeDirectory(Path root, String path, UserDatabase.Identity owner, Integer mode,
                                 UserDatabase.Identity parentOwner) throws IOException {
        boolean made = false;
        StringBuilder current = new StringBuilder();
        String[] components = path.split("/");
        for (int i = 0; i < components.length; i++) {
            if (components[i].isEmpty() || components[i].equals(".")) {
                continue;
            }
            current.append('/').append(components[i]);
            Path host = RootedPath.resolve(root, current.toString(), true);
            if (Files.isDirectory(host, LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            if (Files.exists(host, LinkOption.NOFOLLOW_LINKS)) {
                throw new IllegalArgumentException(current + " exists in the image and is not a directory");
            }
            boolean last = i == components.length - 1;
            UserDatabase.Identity madeBy = last ? owner : parentOwner;
            Files.createDirectory(host);
            setOwnerAndMode(host, madeBy != null ? madeBy.uid() : 0, madeBy != null ? madeBy.gid() : 0,
                    last && mode != null ? mode : DIRECTORY_MODE);
            made = true;
        }
        return made;
    }

    private static void copyEntry(Path root, Path from, String target, UserDatabase.Identity owner, Integer mode)
            throws IOException {
        int uid = owner != null ? owner.uid() : (Integer) Files.getAttribute(from, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        int gid = owner != null ? owner.gid() : (Integer) Files.getAttribute(from, "unix:gid", LinkOption.NOFOLLOW_LINKS);
        if (Files.isDirectory(from, LinkOption.NOFOLLOW_LINKS)) {
            Path host = RootedPath.resolve(root, target, true);
            if (Files.isDirectory(host, LinkOption.NOFOLLOW_LINKS)) {
                return;
            }
            Files.deleteIfExists(host);
            Files.createDirectory(host);
            setOwnerAndMode(host, uid, gid, mode != null ? mode : permissions(from));
            return;
        }
        Path host = RootedPath.resolve(root, target, false);
        if (Files.isDirectory(host, LinkOption.NOFOLLOW_LINKS)) {
            throw new IllegalArgumentException("cannot copy " + from.getFileName() + " over the directory " + target);
        }
        if (Files.isSymbolicLink(from)) {
            Files.deleteIfExists(host);
            Files.createSymbolicLink(host, Files.readSymbolicLink(from));
            Files.setAttribute(host, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(host, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
        } else if (Files.isRegularFile(from, LinkOption.NOFOLLOW_LINKS)) {
            Files.copy(from, host, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES,
                    LinkOption.NOFOLLOW_LINKS);
            setOwnerAndMode(host, uid, gid, mode != null ? mode : permissions(from));
        } else {
            throw new IllegalArgumentException("cannot copy " + from + ": it is a device, socket or pipe");
        }
    }

    /** Owner first: chown clears the setuid bits that the mode may then set. */
    private static void setOwnerAndMode(Path path, int uid, int gid, int mode) throws IOException {
        Files.setAttribute(path, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(path, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(path, "unix:mode", mode, LinkOption.NOFOLLOW_LINKS);
    }

    private static int permissions(Path path) throws IOException {
        return (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
    }

    private static UserDatabase.Identity ownerOf(Path path) throws IOException {
        return new UserDatabase.Identity((Integer) Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS),
                (Integer) Files.getAttribute(path, "unix:gid", LinkOption.NOFOLLOW_LINKS), List.of(), "/");
    }

    private static String join(String directory, String name) {
        return directory.endsWith("/") ? directory + name : directory + "/" + name;
    }

    private static String parent(String path) {
        String trimmed = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        int slash = trimmed.lastIndexOf('/');
        return slash <= 0 ? "/" : trimmed.substring(0, slash);
    }
}
