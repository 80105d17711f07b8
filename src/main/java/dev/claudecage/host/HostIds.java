package dev.claudecage.host;

/** A user id and group id on the host. */
public record HostIds(int uid, int gid) {

    /** As {@code UID:GID}, the form {@code mount_owner} and {@code user} take. */
    @Override
    public String toString() {
        return uid + ":" + gid;
    }
}
