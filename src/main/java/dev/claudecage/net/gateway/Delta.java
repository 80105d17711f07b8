package dev.claudecage.net.gateway;

import java.io.ByteArrayOutputStream;
import java.net.ProtocolException;

/** A git delta (gitformat-pack(5), "Deltified representation") applied to its base, with every offset checked. */
final class Delta {

    private Delta() {
    }

    /**
     * The object the delta makes of {@code base}.
     *
     * @throws ProtocolException when the delta does not fit its base, or makes more than {@link PackCommits#MAX_COMMIT_BYTES}
     */
    static byte[] apply(byte[] base, byte[] delta) throws ProtocolException {
        int[] at = {0};
        long sourceSize = varint(delta, at);
        long targetSize = varint(delta, at);
        if (sourceSize != base.length) {
            throw new ProtocolException("a delta in the push's pack is for a base of another size");
        }
        if (targetSize > PackCommits.MAX_COMMIT_BYTES) {
            throw new ProtocolException("a delta in the push's pack makes a commit larger than the gateway reads");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream((int) targetSize);
        while (at[0] < delta.length) {
            int op = delta[at[0]++] & 0xff;
            if ((op & 0x80) != 0) {
                long offset = 0;
                long size = 0;
                for (int bit = 0; bit < 4; bit++) {
                    if ((op & (1 << bit)) != 0) {
                        offset |= (long) next(delta, at) << (8 * bit);
                    }
                }
                for (int bit = 0; bit < 3; bit++) {
                    if ((op & (0x10 << bit)) != 0) {
                        size |= (long) next(delta, at) << (8 * bit);
                    }
                }
                if (size == 0) {
                    size = 0x10000;
                }
                if (offset + size > base.length || out.size() + size > targetSize) {
                    throw new ProtocolException("a delta in the push's pack copies from outside its base");
                }
                out.write(base, (int) offset, (int) size);
            } else if (op != 0) {
                if (at[0] + op > delta.length || out.size() + op > targetSize) {
                    throw new ProtocolException("a delta in the push's pack inserts past its end");
                }
                out.write(delta, at[0], op);
                at[0] += op;
            } else {
                throw new ProtocolException("a delta in the push's pack holds the reserved instruction 0");
            }
        }
        if (out.size() != targetSize) {
            throw new ProtocolException("a delta in the push's pack makes an object of another size than it says");
        }
        return out.toByteArray();
    }

    private static int next(byte[] delta, int[] at) throws ProtocolException {
        if (at[0] >= delta.length) {
            throw new ProtocolException("a delta in the push's pack ends inside an instruction");
        }
        return delta[at[0]++] & 0xff;
    }

    private static long varint(byte[] delta, int[] at) throws ProtocolException {
        long value = 0;
        int shift = 0;
        int c;
        do {
            c = next(delta, at);
            if (shift > 56) {
                throw new ProtocolException("a delta size in the push's pack does not fit");
            }
            value |= (long) (c & 0x7f) << shift;
            shift += 7;
        } while ((c & 0x80) != 0);
        return value;
    }
}
