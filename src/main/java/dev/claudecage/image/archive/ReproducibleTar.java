package dev.claudecage.image.archive;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A tar archive whose bytes depend only on what goes in: ustar headers with no times (mtime 0),
 * no owners (0/0, no names), fixed modes (0644 files, 0755 folders), in the order the caller adds
 * entries. For {@code image save}'s archive, which must come out the same for the same image.
 * GNU tar cannot be told to leave out every time it stores in its POSIX format, hence this writer
 * for the few entries an image archive has. Sizes beyond ustar's 8 GiB are written in base-256,
 * as GNU tar and Go's archive/tar (Docker's) read them.
 */
final class ReproducibleTar implements AutoCloseable {

    private static final int BLOCK = 512;
    private static final int NAME_FIELD = 100;
    private static final int PREFIX_FIELD = 155;
    /** The largest size ustar's 11 octal digits hold. */
    private static final long LARGEST_OCTAL_SIZE = 077777777777L;

    private final OutputStream out;

    ReproducibleTar(OutputStream out) {
        this.out = out;
    }

    /** A folder entry; {@code name} without the trailing '/'. */
    void folder(String name) throws IOException {
        out.write(header(name + "/", 0755, 0, (byte) '5'));
    }

    void file(String name, byte[] content) throws IOException {
        out.write(header(name, 0644, content.length, (byte) '0'));
        out.write(content);
        pad(content.length);
    }

    /** A file entry with {@code source}'s bytes, streamed. */
    void file(String name, Path source) throws IOException {
        long size = Files.size(source);
        out.write(header(name, 0644, size, (byte) '0'));
        long copied;
        try (InputStream in = Files.newInputStream(source)) {
            copied = in.transferTo(out);
        }
        if (copied != size) {
            throw new IOException(source + " changed size while it was archived");
        }
        pad(size);
    }

    /** The end-of-archive marker, two empty blocks; the stream stays open. */
    @Override
    public void close() throws IOException {
        out.write(new byte[2 * BLOCK]);
        out.flush();
    }

    private void pad(long size) throws IOException {
        int rest = (int) (size % BLOCK);
        if (rest != 0) {
            out.write(new byte[BLOCK - rest]);
        }
    }

    static byte[] header(String name, int mode, long size, byte type) {
        if (!StandardCharsets.US_ASCII.newEncoder().canEncode(name)) {
            throw new IllegalArgumentException("not an ASCII name: " + name);
        }
        byte[] header = new byte[BLOCK];
        byte[] nameBytes = name.getBytes(StandardCharsets.US_ASCII);
        if (nameBytes.length <= NAME_FIELD) {
            System.arraycopy(nameBytes, 0, header, 0, nameBytes.length);
        } else {
            int split = name.lastIndexOf('/', PREFIX_FIELD);
            if (split <= 0 || nameBytes.length - split - 1 > NAME_FIELD) {
                throw new IllegalArgumentException("name too long for a ustar header: " + name);
            }
            System.arraycopy(nameBytes, split + 1, header, 0, nameBytes.length - split - 1);
            System.arraycopy(nameBytes, 0, header, 345, split);
        }
        octal(header, 100, 8, mode);
        octal(header, 108, 8, 0);
        octal(header, 116, 8, 0);
        if (size <= LARGEST_OCTAL_SIZE) {
            octal(header, 124, 12, size);
        } else {
            header[124] = (byte) 0x80;
            for (int i = 0; i < 8; i++) {
                header[135 - i] = (byte) (size >>> (8 * i));
            }
        }
        octal(header, 136, 12, 0);
        header[156] = type;
        System.arraycopy("ustar\u000000".getBytes(StandardCharsets.US_ASCII), 0, header, 257, 8);
        Arrays.fill(header, 148, 156, (byte) ' ');
        long checksum = 0;
        for (byte b : header) {
            checksum += b & 0xff;
        }
        octal(header, 148, 7, checksum);
        return header;
    }

    /** {@code value} as zero-padded octal digits and a NUL, filling {@code length} bytes at {@code offset}. */
    private static void octal(byte[] header, int offset, int length, long value) {
        String digits = Long.toOctalString(value);
        String padded = "0".repeat(length - 1 - digits.length()) + digits;
        System.arraycopy(padded.getBytes(StandardCharsets.US_ASCII), 0, header, offset, length - 1);
        header[offset + length - 1] = 0;
    }
}
