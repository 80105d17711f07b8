package dev.claudecage.runtime;

import dev.claudecage.CageException;
import dev.claudecage.config.CageConfig;
import dev.claudecage.config.MountSpec;
import dev.claudecage.config.ProtectedPath;
import dev.claudecage.host.UntrustedDirectory;
import dev.claudecage.oci.WorkspaceWall;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Looks at each writable directory mount on the host, without following links, and decides how
 * to keep each protected path out of the cage's reach: a read-only bind over it when it exists,
 * a writable pin on each folder on the way (so the folder cannot be renamed away and rebuilt),
 * and for the first missing name on the way a placeholder, an empty folder that exists only
 * while the cage does, with a read-only bind over it (a file for the two git would refuse as a
 * folder, see {@link #FILE_PLACEHOLDERS}). A mount needs a name on disk to sit
 * on, and the cage sees the workspace through a bind of the real folder, so no other place
 * than the workspace can hold it; see docs/security.md, "The workspace wall".
 */
final class ProtectedPathScan {

    /** What to mount and which placeholders to make before the cage starts. */
    record Result(WorkspaceWall wall, List<Placeholders.Placeholder> placeholders) {
        Result {
            placeholders = List.copyOf(placeholders);
        }
    }

    /**
     * The missing paths whose place a file must hold, git refusing a folder there, and its content,
     * which leaves git as it was: "." names .git itself as the common folder; an empty config sets nothing.
     */
    static final Map<String, String> FILE_PLACEHOLDERS = Map.of(".git/commondir", ".\n", ".git/config.worktree", "");

    private ProtectedPathScan() {
    }

    static Result scan(CageConfig config) {
        List<WorkspaceWall.Guard> guards = new ArrayList<>();
        List<Placeholders.Placeholder> placeholders = new ArrayList<>();
        for (MountSpec mount : config.mounts()) {
            if (mount.readOnly() || !Files.isDirectory(mount.source(), LinkOption.NOFOLLOW_LINKS)
                    || config.protectedPaths().isEmpty()) {
                continue;
            }
            Map<String, WorkspaceWall.Guard> byPath = new LinkedHashMap<>();
            try (UntrustedDirectory workspace = UntrustedDirectory.open(mount.source())) {
                for (ProtectedPath path : ProtectedPath.withImplied(config.protectedPaths())) {
                    guard(mount, workspace, path, byPath, placeholders);
                }
            } catch (IOException e) {
                throw new CageException("cannot look at the protected paths in " + mount.source() + ": " + e.getMessage());
            }
            guards.addAll(outermostFirst(byPath));
        }
        return new Result(new WorkspaceWall(guards), placeholders.stream().distinct().toList());
    }

    /**
     * Walks down to {@code path} one name at a time, each looked at without following it
     * (beneath the workspace's descriptor, so no link on the way is followed either).
     */
    private static void guard(MountSpec mount, UntrustedDirectory workspace, ProtectedPath path,
                              Map<String, WorkspaceWall.Guard> byPath, List<Placeholders.Placeholder> placeholders)
            throws IOException {
        List<String> names = path.names();
        for (int i = 0; i < names.size(); i++) {
            boolean last = i == names.size() - 1;
            String relative = String.join("/", names.subList(0, i + 1));
            Path host = mount.source().resolve(relative);
            Optional<UntrustedDirectory.Entry> found = workspace.stat(relative);
            if (found.isEmpty()) {
                placeholders.add(new Placeholders.Placeholder(mount.source(), relative,
                        last ? FILE_PLACEHOLDERS.get(relative) : null));
                byPath.put(relative, new WorkspaceWall.Guard(mount.target(), relative, host, true));
                return;
            }
            UntrustedDirectory.Entry entry = found.get();
            if (entry.kind() == UntrustedDirectory.Entry.Kind.SYMLINK) {
                throw new CageException("the protected path " + path.format() + " in " + mount.source() + " goes through "
                        + "the symbolic link " + host + ", whose name cannot be made read-only (the cage could replace "
                        + "the link itself)", "replace the link by what it points to, or remove " + path.format()
                        + " from protected_paths if you accept that risk");
            }
            if (last || entry.kind() != UntrustedDirectory.Entry.Kind.DIRECTORY) {
                // A file where a folder was expected (a worktree's .git file) is what the host trusts: cover it.
                if (entry.kind() == UntrustedDirectory.Entry.Kind.FILE && entry.links() > 1) {
                    throw new CageException("the protected file " + host + " has other hard links, through which "
                            + "the cage could write it", "give it a single name: cp " + host + " " + host
                            + ".copy && mv " + host + ".copy " + host);
                }
                byPath.put(relative, new WorkspaceWall.Guard(mount.target(), relative, host, true));
                return;
            }
            byPath.putIfAbsent(relative, new WorkspaceWall.Guard(mount.target(), relative, host, false));
        }
    }

    /** Outermost first, and nothing inside a read-only guard: it covers all below it. */
    private static List<WorkspaceWall.Guard> outermostFirst(Map<String, WorkspaceWall.Guard> byPath) {
        List<WorkspaceWall.Guard> sorted = new ArrayList<>(byPath.values());
        sorted.sort(Comparator.comparingInt((WorkspaceWall.Guard guard) -> guard.relative().split("/").length)
                .thenComparing(WorkspaceWall.Guard::relative));
        List<WorkspaceWall.Guard> kept = new ArrayList<>();
        for (WorkspaceWall.Guard guard : sorted) {
            boolean covered = kept.stream().anyMatch(outer -> outer.readOnly()
                    && guard.relative().startsWith(outer.relative() + "/"));
            if (!covered) {
                kept.add(guard);
            }
        }
        return kept;
    }
}
