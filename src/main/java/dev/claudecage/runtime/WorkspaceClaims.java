package dev.claudecage.runtime;

import dev.claudecage.CageException;
import dev.claudecage.config.MountSpec;
import dev.claudecage.host.Directories;
import dev.claudecage.host.FileLock;
import dev.claudecage.json.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.stream.Stream;

/**
 * One writer per folder. A cage's workspace wall holds the place of missing protected paths with
 * placeholders that exist while it runs; a second cage on the same folder would take them for
 * the user's own and sit its read-only mounts on them, and when the first cage ends and removes
 * them, the kernel lifts the second cage's mounts: it could then write {@code .git/commondir}
 * and have the user's next {@code git status} run a program of its choice. So a cage claims each
 * folder it may write before anything is made, under one lock, and is refused when a claim of
 * another cage overlaps: the same folder, or one inside the other, told by device and inode
 * rather than by name. A claim is a file in the cage's run folder and goes with it, after the
 * placeholders: when the cage is removed, or, after a crash, by {@code gc}, which removes the
 * placeholders first. Until then the crashed cage's placeholders are still in the folder, and
 * its claim still holds it.
 */
final class WorkspaceClaims {

    /** The claim's name in the cage's run folder. */
    static final String RECORD = "writes.json";
    private static final Duration LOCK_TIMEOUT = Duration.ofSeconds(60);

    /** A file's identity on this host. */
    record FileId(long device, long inode) {
        static FileId of(Path path) throws IOException {
            Map<String, Object> attributes = Files.readAttributes(path, "unix:dev,ino");
            return new FileId((Long) attributes.get("dev"), (Long) attributes.get("ino"));
        }
    }

    /**
     * A folder (or file) a cage writes: its path, for messages, and the identities of itself and
     * of every folder above it, itself first.
     */
    record Folder(String path, List<FileId> chain) {
        Folder {
            chain = List.copyOf(chain);
        }

        static Folder of(Path source) throws IOException {
            List<FileId> chain = new ArrayList<>();
            for (Path at = source.toRealPath(); at != null; at = at.getParent()) {
                chain.add(FileId.of(at));
            }
            return new Folder(source.toString(), chain);
        }

        /** The same folder, or one inside the other. */
        boolean overlaps(Folder other) {
            return chain.contains(other.chain.get(0)) || other.chain.contains(chain.get(0));
        }
    }

    /** The claim's form on disk: the cage and the folders it writes. */
    record Claim(String cage, List<Folder> folders) {
        Claim {
            folders = List.copyOf(folders);
        }
    }

    /** A folder this cage would write that another cage writes already, as {@code theirs}. */
    record Conflict(Folder mine, String cage, Folder theirs) {
    }

    private WorkspaceClaims() {
    }

    /** The first folder in {@code mine} that a claim in {@code others} overlaps. */
    static Optional<Conflict> conflict(List<Folder> mine, List<Claim> others) {
        for (Folder folder : mine) {
            for (Claim claim : others) {
                for (Folder theirs : claim.folders()) {
                    if (folder.overlaps(theirs)) {
                        return Optional.of(new Conflict(folder, claim.cage(), theirs));
                    }
                }
            }
        }
        return Optional.empty();
    }

    /**
     * Claims the folders cage {@code cageId} may write (its writable mounts), or fails, naming the
     * cage that writes one already; says whether there was anything to claim.
     */
    @SuppressWarnings("try") // the lock is held for the whole block
    static boolean claim(StatePaths paths, String cageId, List<MountSpec> mounts) {
        List<Folder> folders = new ArrayList<>();
        for (MountSpec mount : mounts) {
            if (!mount.readOnly()) {
                try {
                    folders.add(Folder.of(mount.source()));
                } catch (IOException e) {
                    throw new CageException("cannot look at the mount " + mount.source() + ": " + e.getMessage());
                }
            }
        }
        if (folders.isEmpty()) {
            return false;
        }
        try (FileLock lock = FileLock.acquire(paths.workspacesLock(), LOCK_TIMEOUT, "the folders cages write")) {
            conflict(folders, claims(paths, cageId)).ifPresent(conflict -> {
                throw refusal(conflict, mounts);
            });
            Path runFolder = paths.bundle(cageId).getParent();
            Directories.createPrivate(paths.runs());
            Directories.createPrivate(runFolder);
            Directories.writePrivateFile(runFolder.resolve(RECORD), Json.write(new Claim(cageId, folders)));
            return true;
        } catch (IOException e) {
            throw new CageException("cannot record which folders cage " + cageId + " writes in " + paths.runs() + ": "
                    + e.getMessage());
        }
    }

    /** Removes the claim of a cage that was never prepared (a prepared cage's goes with its run folder). */
    static void release(StatePaths paths, String cageId) {
        try {
            Directories.deleteRecursively(paths.bundle(cageId).getParent());
        } catch (IOException e) {
            throw new CageException("cannot remove the run folder of cage " + cageId + ": " + e.getMessage(),
                    "claude-cage gc removes it");
        }
    }

    /** Every other cage's claim; one that cannot be read holds everything, to be safe. */
    private static List<Claim> claims(StatePaths paths, String cageId) throws IOException {
        if (!Files.isDirectory(paths.runs())) {
            return List.of();
        }
        List<Claim> claims = new ArrayList<>();
        try (Stream<Path> runFolders = Files.list(paths.runs())) {
            for (Path runFolder : runFolders.toList()) {
                Path record = runFolder.resolve(RECORD);
                if (runFolder.getFileName().toString().equals(cageId)
                        || !Files.isDirectory(runFolder, LinkOption.NOFOLLOW_LINKS)
                        || !Files.isRegularFile(record, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                try {
                    claims.add(Json.read(Files.readString(record), Claim.class));
                } catch (IOException | RuntimeException e) {
                    throw new CageException("cannot read " + record + ", which says which folders cage "
                            + runFolder.getFileName() + " writes: " + e.getMessage(),
                            "if that cage is gone, claude-cage gc removes what it left");
                }
            }
        }
        return claims;
    }

    private static CageException refusal(Conflict conflict, List<MountSpec> mounts) {
        String owner = owner(conflict.cage());
        Folder mine = conflict.mine();
        Folder theirs = conflict.theirs();
        String overlap = mine.chain().get(0).equals(theirs.chain().get(0)) ? "so this cage cannot write it too"
                : mine.chain().contains(theirs.chain().get(0)) ? "and " + mine.path() + ", which this cage would write, is inside it"
                : "and it is inside " + mine.path() + ", which this cage would write";
        String readOnly = mounts.stream().filter(mount -> mount.source().toString().equals(mine.path()))
                .findFirst().map(mount -> "--mount " + new MountSpec(mount.source(), mount.target(), true).format())
                .orElse(":ro");
        return new CageException(owner + " writes " + theirs.path() + " already, " + overlap + ": two cages writing "
                + "one folder share its workspace wall, and the first to end takes the other's protection with it",
                "work on a copy (start --clone), mount it read-only (" + readOnly + "), or stop " + owner
                        + " first; if it is not running any more, claude-cage gc removes what it left");
    }

    /** The session or command a cage belongs to, from its id. */
    static String owner(String cage) {
        Matcher session = Cage.SESSION_ID.matcher(cage);
        if (session.matches()) {
            return "session " + session.group(1);
        }
        return "cage " + cage + (cage.startsWith("run-") ? " (a 'claude-cage run')" : "");
    }
}
