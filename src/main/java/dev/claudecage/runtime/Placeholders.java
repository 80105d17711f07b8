package dev.claudecage.runtime;

import dev.claudecage.CageException;
import dev.claudecage.host.Directories;
import dev.claudecage.host.Host;
import dev.claudecage.host.UntrustedDirectory;
import dev.claudecage.json.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The empty folders that hold the place of missing protected paths in the user's workspace while
 * a cage runs, so that a read-only mount can sit on them. Folders even where a file is missing:
 * git does not see an empty folder, so {@code git add -A} in the cage (or on the host) never
 * stages a placeholder, and no program mistakes one for a real, empty settings file. Each is written to a
 * record in the cage's run folder as soon as it is made, and removed, after the cage is gone, by
 * whoever tears the cage down: the launcher, or after a crash {@code destroy}/{@code gc}. Removing
 * one while the cage lives would lift its mount (the kernel detaches mounts whose point is
 * deleted from another namespace), so that never happens first; and no other cage writes the
 * folder meanwhile ({@link WorkspaceClaims}), as it would sit its own read-only mounts on these.
 * A placeholder that is no longer an empty folder was taken over by someone on the host: it is
 * left, with a warning.
 */
public final class Placeholders {

    /** The record's name in the cage's run folder. */
    public static final String RECORD = "placeholders.json";

    /**
     * One placeholder: an empty folder, or, where git would refuse a folder, a file with content
     * that leaves git as it was ({@code .git/commondir} holding ".").
     *
     * @param workspace the writable mount's folder on the host, whose own path is trusted
     * @param relative  the placeholder's name below it, every name of which the cage could change
     * @param content   the file's content, or null for a folder
     */
    public record Placeholder(Path workspace, String relative, String content) {
        public Placeholder(Path workspace, String relative) {
            this(workspace, relative, null);
        }

        /** Where it is on the host, for messages. */
        Path path() {
            return workspace.resolve(relative);
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
     * Makes each placeholder, owned like the folder it is in (rootless: the invoking user's), and records it as soon as it exists:
     * only what this made is ever removed, even if someone on the host makes the same name first.
     * Every name is resolved beneath the workspace without following links ({@link UntrustedDirectory}):
     * a cage that wrote the workspace before could have left one anywhere. On failure removes what it made.
     */
    static void create(List<Placeholder> placeholders, Path record) {
        List<Placeholder> made = new ArrayList<>();
        try {
            for (Placeholder placeholder : placeholders) {
                try (UntrustedDirectory workspace = UntrustedDirectory.open(placeholder.workspace())) {
                    String relative = placeholder.relative();
                    if (placeholder.content() == null) {
                        workspace.createDirectory(relative, 0755);
                    } else {
                        workspace.createFile(relative, placeholder.content().getBytes(StandardCharsets.UTF_8), 0644);
                    }
                    made.add(placeholder);
                    Directories.writePrivateFile(record, Json.write(new Recorded(made)));
                    // Without root the launcher can give nothing away: the placeholder stays the
                    // invoking user's, as everything the rootless cage writes in the folder is.
                    if (Host.effectiveUid() == 0) {
                        int slash = relative.lastIndexOf('/');
                        UntrustedDirectory.Entry parent = slash < 0 ? workspace.stat()
                                : workspace.stat(relative.substring(0, slash)).orElseThrow(
                                        () -> new NoSuchFileException(placeholder.path().getParent().toString()));
                        workspace.chown(relative, parent.uid(), parent.gid());
                    }
                }
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
        String relative = placeholder.relative();
        try (UntrustedDirectory workspace = UntrustedDirectory.open(placeholder.workspace())) {
            Optional<UntrustedDirectory.Entry> entry = workspace.stat(relative);
            if (entry.isEmpty()) {
                return null;
            }
            if (placeholder.content() != null) {
                byte[] content = placeholder.content().getBytes(StandardCharsets.UTF_8);
                if (entry.get().kind() != UntrustedDirectory.Entry.Kind.FILE || entry.get().size() != content.length
                        || !Arrays.equals(workspace.readFile(relative, content.length), content)) {
                    return "kept " + path + ": it is no longer the placeholder file claude-cage made";
                }
                workspace.removeFile(relative);
                return null;
            }
            if (entry.get().kind() != UntrustedDirectory.Entry.Kind.DIRECTORY) {
                return "kept " + path + ": it is no longer the placeholder folder claude-cage made";
            }
            workspace.removeEmptyDirectory(relative);
            return null;
        } catch (NoSuchFileException gone) {
            return null;
        } catch (DirectoryNotEmptyException e) {
            return "kept " + path + ": something on the host put files into the placeholder folder";
        } catch (IOException e) {
            return "cannot remove the placeholder " + path + ": " + e.getMessage();
        }
    }
}
