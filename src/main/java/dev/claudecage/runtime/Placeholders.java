package dev.claudecage.runtime;

import dev.claudecage.CageException;
import dev.claudecage.host.Directories;
import dev.claudecage.json.Json;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;

/**
 * The empty folders that hold the place of missing protected paths in the user's workspace while
 * a cage runs, so that a read-only mount can sit on them. Folders even where a file is missing:
 * git does not see an empty folder, so {@code git add -A} in the cage (or on the host) never
 * stages a placeholder, and no program mistakes one for a real, empty settings file. Each is written to a
 * record in the cage's run folder as soon as it is made, and removed, after the cage is gone, by
 * whoever tears the cage down: the launcher, or after a crash {@code destroy}/{@code gc}. Removing
 * one while the cage lives would lift its mount (the kernel detaches mounts whose point is
 * deleted from another namespace), so that never happens first. A placeholder that is no longer
 * an empty folder was taken over by someone on the host: it is left, with a warning.
 */
public final class Placeholders {

    /** The record's name in the cage's run folder. */
    public static final String RECORD = "placeholders.json";

    /**
     * One placeholder: an empty folder, or, where git would refuse a folder, a file with content
     * that leaves git as it was ({@code .git/commondir} holding ".").
     *
     * @param content the file's content, or null for a folder
     */
    public record Placeholder(Path path, String content) {
        public Placeholder(Path path) {
            this(path, null);
        }
    }

    /** The record's form on disk. */
    record Recorded(List<Placeholder> placeholders) {
        Recorded {
            placeholders = List.copyOf(placeholders);
        }
    }

    private Placeholders() {
    }

    /**
     * Makes each placeholder, owned like the folder it is in, and records it as soon as it exists:
     * only what this made is ever removed, even if someone on the host makes the same name first.
     * On failure removes what it made.
     */
    static void create(List<Placeholder> placeholders, Path record) {
        List<Placeholder> made = new ArrayList<>();
        try {
            for (Placeholder placeholder : placeholders) {
                Path path = placeholder.path();
                if (placeholder.content() == null) {
                    Files.createDirectory(path);
                } else {
                    Files.writeString(path, placeholder.content(), java.nio.file.StandardOpenOption.CREATE_NEW,
                            java.nio.file.StandardOpenOption.WRITE);
                    Files.setPosixFilePermissions(path, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
                }
                made.add(placeholder);
                Directories.writePrivateFile(record, Json.write(new Recorded(made)));
                Path parent = path.getParent();
                Files.setAttribute(path, "unix:uid", Files.getAttribute(parent, "unix:uid", LinkOption.NOFOLLOW_LINKS),
                        LinkOption.NOFOLLOW_LINKS);
                Files.setAttribute(path, "unix:gid", Files.getAttribute(parent, "unix:gid", LinkOption.NOFOLLOW_LINKS),
                        LinkOption.NOFOLLOW_LINKS);
            }
        } catch (IOException e) {
            List<String> left = removeRecorded(record);
            throw new CageException("cannot hold the place of a missing protected path: " + e.getMessage()
                    + (left.isEmpty() ? "" : "; " + String.join("; ", left)));
        }
    }

    /**
     * Removes the placeholders named in {@code record} (innermost first) and the record. Only
     * call once the cage is gone.
     *
     * @return what could not be removed, and why; empty when all is clean
     */
    public static List<String> removeRecorded(Path record) {
        if (!Files.exists(record)) {
            return List.of();
        }
        List<String> problems = new ArrayList<>();
        List<Placeholder> placeholders;
        try {
            placeholders = new ArrayList<>(Json.read(Files.readString(record), Recorded.class).placeholders());
        } catch (IOException | RuntimeException e) {
            return List.of("cannot read the placeholder record " + record + ": " + e.getMessage());
        }
        placeholders.sort((a, b) -> b.path().getNameCount() - a.path().getNameCount());
        for (Placeholder placeholder : placeholders) {
            String problem = remove(placeholder);
            if (problem != null) {
                problems.add(problem);
            }
        }
        try {
            Files.delete(record);
        } catch (IOException e) {
            problems.add("cannot remove " + record + ": " + e.getMessage());
        }
        return problems;
    }

    private static String remove(Placeholder placeholder) {
        Path path = placeholder.path();
        try {
            BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (placeholder.content() != null) {
                if (!attributes.isRegularFile() || !Files.readString(path).equals(placeholder.content())) {
                    return "kept " + path + ": it is no longer the placeholder file claude-cage made";
                }
                Files.delete(path);
                return null;
            }
            if (!attributes.isDirectory()) {
                return "kept " + path + ": it is no longer the placeholder folder claude-cage made";
            }
            Files.delete(path);
            return null;
        } catch (java.nio.file.NoSuchFileException gone) {
            return null;
        } catch (DirectoryNotEmptyException e) {
            return "kept " + path + ": something on the host put files into the placeholder folder";
        } catch (IOException e) {
            return "cannot remove the placeholder " + path + ": " + e.getMessage();
        }
    }
}
