package dev.claudecage.identity;

import dev.claudecage.config.UsernsPool;
import dev.claudecage.host.IdBlock;
import dev.claudecage.rootless.IdRange;
import dev.claudecage.rootless.SubordinateIds;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The host ids claude-cage may hand out to root-mode cages, cut into blocks of {@link IdBlock#SIZE}:
 * the subordinate ranges of the {@value #ACCOUNT} account in /etc/subuid and /etc/subgid (made by
 * scripts/install-deps.sh and make install), or the range {@code userns_pool} names. A block is left
 * out when it holds the id of a host account or group, or ids of another user's subordinate range:
 * a cage's ids belong to nobody on the host.
 *
 * @param blocks  the blocks in order, the first free one given to the next cage
 * @param source  where the ids come from, in words
 * @param missing why there are no blocks, in words the user can act on; null when there are
 */
public record IdPool(List<IdBlock> blocks, String source, String missing) {

    /** The system account whose subordinate ids are claude-cage's. */
    public static final String ACCOUNT = "claude-cage";
    static final String SETUP = "scripts/install-deps.sh (or make install) creates the " + ACCOUNT
            + " account and its subordinate ids";

    public IdPool {
        blocks = List.copyOf(blocks);
    }

    public boolean available() {
        return !blocks.isEmpty();
    }

    /** The pool on this host, as {@code setting} asks. */
    public static IdPool resolve(UsernsPool setting) {
        return of(setting, read(SubordinateIds.SUBUID), read(SubordinateIds.SUBGID), read(Path.of("/etc/passwd")),
                read(Path.of("/etc/group")));
    }

    /** The pool from the contents of /etc/subuid, /etc/subgid, /etc/passwd and /etc/group. Pure. */
    static IdPool of(UsernsPool setting, String subuid, String subgid, String passwd, String group) {
        long[] accountUids = sortedIds(passwd);
        long[] accountGids = sortedIds(group);
        return switch (setting.kind()) {
            case OFF -> new IdPool(List.of(), "none", "userns_pool is " + UsernsPool.OFF_WORD);
            case RANGE -> {
                IdRange range = new IdRange(setting.start(), setting.count());
                String source = "userns_pool " + setting.format();
                List<IdBlock> blocks = free(pairs(List.of(range), List.of(range)), accountUids, accountGids,
                        othersRanges(subuid, null), othersRanges(subgid, null));
                yield new IdPool(blocks, source, blocks.isEmpty() ? source + " holds no block of " + IdBlock.SIZE
                        + " ids that is free of host accounts, groups and other users' subordinate ids" : null);
            }
            case ACCOUNT -> {
                List<IdRange> uids = SubordinateIds.parse(subuid, ACCOUNT, -1);
                List<IdRange> gids = SubordinateIds.parse(subgid, ACCOUNT, -1);
                String source = "the subordinate ids of the " + ACCOUNT + " account";
                if (uids.isEmpty() || gids.isEmpty()) {
                    yield new IdPool(List.of(), source, "no subordinate " + (uids.isEmpty() ? "uids" : "gids") + " for the "
                            + ACCOUNT + " account in " + (uids.isEmpty() ? SubordinateIds.SUBUID : SubordinateIds.SUBGID)
                            + "; " + SETUP);
                }
                List<IdBlock> blocks = free(pairs(uids, gids), accountUids, accountGids, othersRanges(subuid, ACCOUNT),
                        othersRanges(subgid, ACCOUNT));
                yield new IdPool(blocks, source, blocks.isEmpty() ? "the " + ACCOUNT + " account's subordinate ids in "
                        + SubordinateIds.SUBUID + " and " + SubordinateIds.SUBGID + " hold no block of " + IdBlock.SIZE
                        + " ids free of host accounts, groups and other users' ranges" : null);
            }
        };
    }

    /** The uid blocks of {@code uids} paired in order with the gid blocks of {@code gids}. */
    private static List<IdBlock> pairs(List<IdRange> uids, List<IdRange> gids) {
        List<Long> uidStarts = starts(uids);
        List<Long> gidStarts = starts(gids);
        List<IdBlock> blocks = new ArrayList<>();
        for (int i = 0; i < Math.min(uidStarts.size(), gidStarts.size()); i++) {
            long uid = uidStarts.get(i);
            long gid = gidStarts.get(i);
            if (uid >= 1 && gid >= 1 && uid + IdBlock.SIZE - 1 <= IdBlock.LAST_ID && gid + IdBlock.SIZE - 1 <= IdBlock.LAST_ID) {
                blocks.add(new IdBlock(uid, gid));
            }
        }
        return blocks;
    }

    private static List<Long> starts(List<IdRange> ranges) {
        List<Long> starts = new ArrayList<>();
        for (IdRange range : ranges) {
            for (long start = range.start(); start + IdBlock.SIZE <= range.start() + range.count(); start += IdBlock.SIZE) {
                starts.add(start);
            }
        }
        return starts;
    }

    // Plain loops over sorted ids: a pool holds a thousand blocks, checked at every cage's start, where
    // streams over every account for each block cost a one-shot run some 20 ms.
    private static List<IdBlock> free(List<IdBlock> blocks, long[] accountUids, long[] accountGids,
                                      List<IdRange> otherUids, List<IdRange> otherGids) {
        List<IdBlock> free = new ArrayList<>();
        for (IdBlock block : blocks) {
            if (!holdsAny(accountUids, block.uid()) && !holdsAny(accountGids, block.gid())
                    && !overlapsAny(otherUids, block.uid()) && !overlapsAny(otherGids, block.gid())) {
                free.add(block);
            }
        }
        return free;
    }

    /** Whether the block that starts at {@code blockStart} holds one of {@code sortedIds}. */
    private static boolean holdsAny(long[] sortedIds, long blockStart) {
        int found = Arrays.binarySearch(sortedIds, blockStart);
        int next = found >= 0 ? found : -found - 1;
        return next < sortedIds.length && sortedIds[next] < blockStart + IdBlock.SIZE;
    }

    private static boolean overlapsAny(List<IdRange> ranges, long blockStart) {
        for (IdRange range : ranges) {
            if (overlaps(range, blockStart)) {
                return true;
            }
        }
        return false;
    }

    private static boolean overlaps(IdRange range, long blockStart) {
        return range.start() < blockStart + IdBlock.SIZE && blockStart < range.start() + range.count();
    }

    /** The subordinate ranges of every user but {@code owner}. */
    private static List<IdRange> othersRanges(String content, String owner) {
        List<IdRange> ranges = new ArrayList<>();
        content.lines().map(String::strip).filter(line -> !line.isEmpty() && !line.startsWith("#"))
                .map(line -> line.split(":"))
                .filter(fields -> fields.length == 3 && !fields[0].equals(owner))
                .forEach(fields -> ranges.addAll(SubordinateIds.parse(String.join(":", fields), fields[0], -1)));
        return ranges;
    }

    /** The third field (the id) of each line of /etc/passwd or /etc/group, sorted. */
    private static long[] sortedIds(String content) {
        return content.lines().map(line -> line.split(":", -1))
                .filter(fields -> fields.length >= 3 && isId(fields[2]))
                .mapToLong(fields -> Long.parseLong(fields[2])).sorted().toArray();
    }

    private static boolean isId(String field) {
        if (field.isEmpty() || field.length() > 10) {
            return false;
        }
        for (int i = 0; i < field.length(); i++) {
            if (field.charAt(i) < '0' || field.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (NoSuchFileException e) {
            return "";
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
