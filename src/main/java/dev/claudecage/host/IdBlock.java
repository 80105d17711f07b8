package dev.claudecage.host;

/**
 * One cage's own host ids: {@link #SIZE} uids from {@code uid} and as many gids from {@code gid}.
 * The cage's user namespace maps its ids 0 to 65535 onto them, so its uid 1000 is host uid
 * {@code uid + 1000}, an id that no host account and no other cage has.
 */
public record IdBlock(long uid, long gid) {

    /** Ids a cage gets: 0 to 65535, as in a Debian image (nobody is 65534). */
    public static final long SIZE = 65536;
    /** The highest id a block may reach: (uid_t) -2; -1 means "no id" to the kernel. */
    public static final long LAST_ID = 4_294_967_294L;

    public IdBlock {
        if (uid < 1 || gid < 1 || uid + SIZE - 1 > LAST_ID || gid + SIZE - 1 > LAST_ID) {
            throw new IllegalArgumentException("an id block needs host ids 1 to " + LAST_ID + ", got " + uid + ":" + gid);
        }
    }

    /** The host ids of the cage's {@code ids} (its user, say 1000:1000). */
    public HostIds host(HostIds ids) {
        return new HostIds(Math.toIntExact(hostId(uid, ids.uid())), Math.toIntExact(hostId(gid, ids.gid())));
    }

    /** Whether this block shares a uid or a gid with {@code other}. */
    public boolean overlaps(IdBlock other) {
        return Math.abs(uid - other.uid) < SIZE || Math.abs(gid - other.gid) < SIZE;
    }

    /** Whether host uid {@code hostUid} is one of this block's. */
    public boolean holdsUid(long hostUid) {
        return hostUid >= uid && hostUid < uid + SIZE;
    }

    /** Whether host gid {@code hostGid} is one of this block's. */
    public boolean holdsGid(long hostGid) {
        return hostGid >= gid && hostGid < gid + SIZE;
    }

    private static long hostId(long base, int inCage) {
        if (inCage < 0 || inCage >= SIZE) {
            throw new IllegalArgumentException("a cage's ids are 0 to " + (SIZE - 1) + ", not " + inCage);
        }
        return base + inCage;
    }

    /** As the allocation record holds it: "UID GID". */
    public String format() {
        return uid + " " + gid;
    }

    public static IdBlock parse(String record) {
        String[] fields = record.strip().split(" ");
        if (fields.length != 2 || !fields[0].matches("[0-9]{1,10}") || !fields[1].matches("[0-9]{1,10}")) {
            throw new IllegalArgumentException("not an id block record: '" + record.strip() + "'");
        }
        return new IdBlock(Long.parseLong(fields[0]), Long.parseLong(fields[1]));
    }

    @Override
    public String toString() {
        return "uids " + uid + "-" + (uid + SIZE - 1) + ", gids " + gid + "-" + (gid + SIZE - 1);
    }
}
