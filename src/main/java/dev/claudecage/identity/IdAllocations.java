package dev.claudecage.identity;

import dev.claudecage.CageException;
import dev.claudecage.host.Directories;
import dev.claudecage.host.FileLock;
import dev.claudecage.host.IdBlock;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Which cage holds which block of host ids: one file per cage in a folder of the runtime state
 * (gone at a reboot, with the cages), named by the cage's id and holding its block. A block is
 * handed out under a lock, so two cages never get ids in common, and is taken back when its cage
 * is removed, or by {@code gc} when its cage crashed.
 */
public final class IdAllocations {

    private static final Duration LOCK_TIMEOUT = Duration.ofSeconds(30);
    /** A cage id as {@code Cage.newId} makes them: it names a file here. */
    private static final Pattern CAGE_ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,63}");

    private final Path dir;
    private final Path lockFile;

    /**
     * @param dir      the folder of the records (made when first needed)
     * @param lockFile held while a block is chosen
     */
    public IdAllocations(Path dir, Path lockFile) {
        this.dir = dir;
        this.lockFile = lockFile;
    }

    /** Gives {@code cageId} the first block of {@code pool} that no cage holds; fails when every block is held. */
    @SuppressWarnings("try") // the lock is held for the whole block
    public IdBlock allocate(String cageId, IdPool pool) {
        Path record = record(cageId);
        try (FileLock lock = FileLock.acquire(lockFile, LOCK_TIMEOUT, "the cages' id blocks")) {
            Map<String, IdBlock> held = recorded();
            if (held.containsKey(cageId)) {
                throw new IllegalStateException("cage " + cageId + " holds an id block already");
            }
            for (IdBlock block : pool.blocks()) {
                if (held.values().stream().noneMatch(block::overlaps)) {
                    Directories.createPrivate(dir);
                    Path temporary = dir.resolve("." + cageId + ".new");
                    Directories.writePrivateFile(temporary, block.format() + "\n");
                    Files.move(temporary, record, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                    return block;
                }
            }
            throw new CageException("every one of the " + pool.blocks().size() + " id blocks of " + pool.source()
                    + " is held by a cage (" + held.size() + " cages hold one)",
                    "stop or destroy a session, or claude-cage gc to free the blocks of crashed cages; a larger range "
                            + "for the " + IdPool.ACCOUNT + " account in /etc/subuid and /etc/subgid (or userns_pool) "
                            + "lets more cages run at once");
        } catch (IOException e) {
            throw new CageException("cannot record the id block of cage " + cageId + " in " + dir + ": " + e.getMessage());
        }
    }

    /** Takes back the block of {@code cageId}, if it holds one. */
    public void release(String cageId) {
        try {
            Files.deleteIfExists(record(cageId));
        } catch (IOException e) {
            throw new CageException("cannot free the id block of cage " + cageId + " (" + record(cageId) + "): "
                    + e.getMessage(), "claude-cage gc frees it once the cause is fixed");
        }
    }

    /** Every cage that holds a block, and its block; a record that cannot be read counts as none. */
    public Map<String, IdBlock> recorded() {
        Map<String, IdBlock> held = new LinkedHashMap<>();
        if (!Files.isDirectory(dir)) {
            return held;
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.sorted().toList()) {
                String name = file.getFileName().toString();
                if (!CAGE_ID.matcher(name).matches()) {
                    continue;
                }
                try {
                    held.put(name, IdBlock.parse(Files.readString(file)));
                } catch (IOException | IllegalArgumentException unreadable) {
                    // Written whole by a rename, so only a hand-made file is unreadable; it holds no block.
                }
            }
        } catch (IOException e) {
            throw new CageException("cannot list the cages' id blocks in " + dir + ": " + e.getMessage());
        }
        return held;
    }

    private Path record(String cageId) {
        if (!CAGE_ID.matcher(cageId).matches()) {
            throw new IllegalArgumentException("not a cage id: " + cageId);
        }
        return dir.resolve(cageId);
    }
}
