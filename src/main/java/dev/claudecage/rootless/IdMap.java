package dev.claudecage.rootless;

import dev.claudecage.CageException;

import java.util.ArrayList;
import java.util.List;

/**
 * How ids inside a rootless cage's user namespace map to host ids. The cage's own id (1000) is the
 * invoking user, so what the cage writes to a mounted workspace belongs to that user; every other id,
 * root included, comes from the user's subordinate range. Root inside is therefore never the host
 * user: a process that became root in the cage would own none of the user's files.
 * <p>
 * {@link #SIZE} ids are mapped (0 to 65535, as in a Debian image: {@code nobody} is 65534), which
 * takes {@code SIZE - 1} subordinate ids.
 */
public record IdMap(List<Entry> entries) {

    public static final long SIZE = 65536;
    /** The cage's uid and gid by default (the {@code user} key): a namespace's root maps the same whatever it is. */
    public static final int DEFAULT_CAGE_ID = 1000;

    /** {@code count} ids from {@code inside} in the namespace are the host's ids from {@code outside}. */
    public record Entry(long inside, long outside, long count) {
    }

    public IdMap {
        entries = List.copyOf(entries);
    }

    /**
     * The map for a cage whose process runs as {@code cageId}, owned on the host by {@code hostId}.
     *
     * @param kind "uid" or "gid", for the error message
     */
    public static IdMap forCage(String kind, long cageId, long hostId, List<IdRange> subordinate, String file) {
        long available = subordinate.stream().mapToLong(IdRange::count).sum();
        if (available < SIZE - 1) {
            throw new CageException("rootless cages need " + (SIZE - 1) + " subordinate " + kind + "s, " + file
                    + " gives this user " + available,
                    "ask an administrator for a range, e.g.: sudo usermod --add-sub" + kind + "s 100000-165535 "
                            + System.getProperty("user.name"));
        }
        if (cageId < 1 || cageId >= SIZE) {
            throw new CageException("rootless cages run the cage's " + kind + " between 1 and " + (SIZE - 1) + ", not " + cageId);
        }
        List<Entry> entries = new ArrayList<>();
        Allocator allocator = new Allocator(subordinate);
        allocator.map(0, cageId, entries);
        entries.add(new Entry(cageId, hostId, 1));
        allocator.map(cageId + 1, SIZE - cageId - 1, entries);
        return new IdMap(entries);
    }

    /** The arguments newuidmap and newgidmap take after the pid: inside, outside, count for each entry. */
    public List<String> helperArguments() {
        List<String> args = new ArrayList<>();
        for (Entry entry : entries) {
            args.add(Long.toString(entry.inside()));
            args.add(Long.toString(entry.outside()));
            args.add(Long.toString(entry.count()));
        }
        return args;
    }

    /** Hands out subordinate ids in order, splitting an entry where a range ends. */
    private static final class Allocator {
        private final List<IdRange> ranges;
        private int range;
        private long used;

        Allocator(List<IdRange> ranges) {
            this.ranges = ranges;
        }

        void map(long inside, long count, List<Entry> entries) {
            long next = inside;
            long left = count;
            while (left > 0) {
                IdRange current = ranges.get(range);
                long take = Math.min(left, current.count() - used);
                entries.add(new Entry(next, current.start() + used, take));
                next += take;
                left -= take;
                used += take;
                if (used == current.count()) {
                    range++;
                    used = 0;
                }
            }
        }
    }
}
