package dev.claudecage.net.gateway;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;

/**
 * Masks every occurrence of the real key in a byte stream on its way to the cage, without
 * buffering the stream: it holds back only a tail that could still be the start of the key
 * (a Knuth-Morris-Pratt automaton over the key's bytes). An event that ends in a newline is
 * therefore passed on whole, since no key contains one. A match is replaced by as many
 * {@code '*'} bytes, so a Content-Length stays true. One instance per response; not thread-safe.
 */
final class KeyRedactor {

    static final byte MASK = '*';

    private final byte[] key;
    private final int[] fallback;
    private final byte[] mask;
    private final ByteArrayOutputStream scratch = new ByteArrayOutputStream();
    private int matched;

    KeyRedactor(byte[] key) {
        if (key.length == 0) {
            throw new IllegalArgumentException("an empty key cannot be redacted");
        }
        this.key = key.clone();
        this.fallback = fallback(this.key);
        this.mask = new byte[key.length];
        Arrays.fill(mask, MASK);
    }

    /** Writes {@code buffer[offset, offset+length)}, redacted, to {@code out}; holds back a possible key prefix. */
    void write(byte[] buffer, int offset, int length, OutputStream out) throws IOException {
        scratch.reset();
        for (int i = offset; i < offset + length; i++) {
            byte next = buffer[i];
            while (matched > 0 && key[matched] != next) {
                int shorter = fallback[matched - 1];
                // The bytes held back are exactly key[0, matched): release the part that can no longer match.
                scratch.write(key, 0, matched - shorter);
                matched = shorter;
            }
            if (key[matched] == next) {
                matched++;
                if (matched == key.length) {
                    scratch.write(mask, 0, mask.length);
                    matched = 0;
                }
            } else {
                scratch.write(next);
            }
        }
        scratch.writeTo(out);
    }

    /** At the end of the stream: the held-back tail was not the key after all. */
    void finish(OutputStream out) throws IOException {
        out.write(key, 0, matched);
        matched = 0;
    }

    /** Bytes currently held back. */
    int pending() {
        return matched;
    }

    /** fallback[i]: the length of the longest proper prefix of key[0, i] that is also its suffix. */
    private static int[] fallback(byte[] key) {
        int[] table = new int[key.length];
        int length = 0;
        for (int i = 1; i < key.length; i++) {
            while (length > 0 && key[i] != key[length]) {
                length = table[length - 1];
            }
            if (key[i] == key[length]) {
                length++;
            }
            table[i] = length;
        }
        return table;
    }
}
