package dev.claudecage.session;

import java.util.Arrays;

/**
 * The last bytes the cage wrote to its terminal, replayed to a client when it attaches, so that it
 * sees the prompt and recent output and not a blank screen. Starts the replay after a line break
 * where it can, so a client rarely begins in the middle of an escape sequence.
 */
final class OutputRing {

    private final byte[] buffer;
    private long written;

    OutputRing(int capacity) {
        this.buffer = new byte[capacity];
    }

    synchronized void add(byte[] data) {
        for (byte b : data) {
            buffer[(int) (written % buffer.length)] = b;
            written++;
        }
    }

    synchronized byte[] snapshot() {
        int length = (int) Math.min(written, buffer.length);
        byte[] copy = new byte[length];
        long start = written - length;
        for (int i = 0; i < length; i++) {
            copy[i] = buffer[(int) ((start + i) % buffer.length)];
        }
        if (written > buffer.length) {
            for (int i = 0; i < copy.length - 1; i++) {
                if (copy[i] == '\n') {
                    return Arrays.copyOfRange(copy, i + 1, copy.length);
                }
            }
        }
        return copy;
    }
}
