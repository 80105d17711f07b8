package dev.claudecage.rootless;

/** A range of host ids: {@code count} ids from {@code start} on. */
public record IdRange(long start, long count) {

    public IdRange {
        if (start < 0 || count < 1) {
            throw new IllegalArgumentException("an id range needs a start >= 0 and a count >= 1, got " + start + ":" + count);
        }
    }

    @Override
    public String toString() {
        return start + "-" + (start + count - 1) + " (" + count + ")";
    }
}
