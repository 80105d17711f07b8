package dev.claudecage.config;

/**
 * Where root-mode cages get their private host ids (the {@code userns_pool} key): the subordinate
 * ids of the claude-cage account in /etc/subuid and /etc/subgid ({@link Kind#ACCOUNT}, the
 * default), one range of uids and the same gids ({@link Kind#RANGE}), or none ({@link Kind#OFF}:
 * every cage's user is then the host id of its own uid, shared with the host account of that id).
 */
public record UsernsPool(Kind kind, long start, long count) {

    public enum Kind { ACCOUNT, RANGE, OFF }

    public static final UsernsPool ACCOUNT = new UsernsPool(Kind.ACCOUNT, 0, 0);
    public static final UsernsPool OFF = new UsernsPool(Kind.OFF, 0, 0);
    /** The word that turns private ids off. */
    public static final String OFF_WORD = "off";

    public static UsernsPool range(long start, long count) {
        return new UsernsPool(Kind.RANGE, start, count);
    }

    /** As written in a config file: empty for the account, "off", or START:COUNT. */
    public String format() {
        return switch (kind) {
            case ACCOUNT -> null;
            case OFF -> OFF_WORD;
            case RANGE -> start + ":" + count;
        };
    }
}
