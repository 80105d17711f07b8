package dev.claudecage.net.gateway;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * The commits of a pushed pack and their parents, read as the pack streams past (gitformat-pack(5)), so that the
 * gateway can tell a fast-forward: an update {@code OLD..NEW} is one when NEW's parents, followed through the
 * commits of the pack, reach OLD. Every byte is the cage's, and the upstream will read the same bytes: objects are
 * inflated exactly to their stated sizes, the object count must match, and nothing may follow the trailer. Trees,
 * blobs and tags are inflated and dropped; commits (whole, or deltas against a commit of the pack) are kept up to
 * a bound. What this reader cannot follow (a delta against an object the server has, a commit past the bound) only
 * means that no fast-forward is shown through it.
 */
final class PackCommits {

    static final int MAX_COMMIT_BYTES = 1 << 20;
    /**
     * The most bytes inflated from one pack: zlib packs up to about a thousand to one, so a small push could
     * otherwise keep the host's CPU busy for hours.
     */
    static final long MAX_INFLATED_BYTES = 8L << 30;
    /** A SHA-256 id's bytes; a SHA-1 id has 20. */
    static final int MAX_ID_BYTES = 32;
    static final long MAX_KEPT_BYTES = 64L << 20;
    private static final int COMMIT = 1;
    private static final int OFS_DELTA = 6;
    private static final int REF_DELTA = 7;

    private final Map<String, List<String>> parents = new HashMap<>();

    private PackCommits() {
    }

    /**
     * Reads a whole pack and its trailer, to the end of {@code in}.
     *
     * @param idHexChars 40 for SHA-1 repositories, 64 for SHA-256 ones
     * @throws ProtocolException when the bytes are not one pack
     */
    static PackCommits read(InputStream in, int idHexChars) throws IOException {
        PackCommits pack = new PackCommits();
        pack.readAll(new Source(in), idHexChars / 2);
        return pack;
    }

    /** Whether {@code newId} descends from {@code oldId} through commits of this pack. */
    boolean fastForward(String oldId, String newId) {
        Deque<String> next = new ArrayDeque<>(List.of(newId));
        Set<String> seen = new HashSet<>();
        while (!next.isEmpty()) {
            String id = next.pop();
            if (id.equals(oldId)) {
                return true;
            }
            List<String> up = parents.get(id);
            if (up != null && seen.add(id)) {
                next.addAll(up);
            }
        }
        return false;
    }

    private void readAll(Source in, int idBytes) throws IOException {
        byte[] header = in.readExactly(12);
        if (!new String(header, 0, 4, StandardCharsets.US_ASCII).equals("PACK") || header[4] != 0 || header[5] != 0
                || header[6] != 0 || (header[7] != 2 && header[7] != 3)) {
            throw new ProtocolException("the push's pack does not start with a pack header");
        }
        long count = ((header[8] & 0xffL) << 24) | ((header[9] & 0xff) << 16) | ((header[10] & 0xff) << 8) | (header[11] & 0xff);
        MessageDigest digest = digest(idBytes);
        Map<Long, byte[]> commitsAt = new HashMap<>();
        Map<String, byte[]> commitsById = new HashMap<>();
        long kept = 0;
        for (long i = 0; i < count; i++) {
            long start = in.position();
            int c = in.readByte();
            int type = (c >> 4) & 7;
            long size = c & 0x0f;
            for (int shift = 4; (c & 0x80) != 0; shift += 7) {
                c = in.readByte();
                if (shift > 56) {
                    throw new ProtocolException("an object size in the push's pack does not fit");
                }
                size |= (long) (c & 0x7f) << shift;
            }
            byte[] base = null;
            if (type == OFS_DELTA) {
                c = in.readByte();
                long offset = c & 0x7f;
                while ((c & 0x80) != 0) {
                    c = in.readByte();
                    if (offset > (Long.MAX_VALUE >> 8)) {
                        throw new ProtocolException("a delta offset in the push's pack does not fit");
                    }
                    offset = ((offset + 1) << 7) | (c & 0x7f);
                }
                base = commitsAt.get(start - offset);
            } else if (type == REF_DELTA) {
                base = commitsById.get(HexFormat.of().formatHex(in.readExactly(idBytes)));
            } else if (type == 0 || type == 5) {
                throw new ProtocolException("an object of unknown type " + type + " in the push's pack");
            }
            boolean keep = (type == COMMIT || base != null) && size <= MAX_COMMIT_BYTES && kept + size <= MAX_KEPT_BYTES;
            byte[] data = in.inflate(size, keep);
            byte[] commit = type == COMMIT ? data : base != null && data != null ? Delta.apply(base, data) : null;
            if (commit != null && commit.length <= MAX_COMMIT_BYTES && kept + commit.length <= MAX_KEPT_BYTES) {
                kept += commit.length;
                digest.update(("commit " + commit.length + "\0").getBytes(StandardCharsets.US_ASCII));
                String id = HexFormat.of().formatHex(digest.digest(commit));
                commitsAt.put(start, commit);
                commitsById.put(id, commit);
                List<String> up = parentsOf(commit, idBytes * 2);
                if (up != null) {
                    parents.put(id, up);
                }
            }
        }
        in.readExactly(idBytes);
        if (in.readByte0() >= 0) {
            throw new ProtocolException("bytes after the push's pack");
        }
    }

    /** As git's parse_commit_buffer reads them: a tree line, then the parent lines right after it; null if not a commit. */
    private static List<String> parentsOf(byte[] commit, int hexChars) {
        String text = new String(commit, StandardCharsets.ISO_8859_1);
        String tree = "tree " + "x".repeat(hexChars) + "\n";
        if (text.length() < tree.length() || !text.startsWith("tree ") || text.charAt(tree.length() - 1) != '\n') {
            return null;
        }
        List<String> up = new ArrayList<>();
        int at = tree.length();
        int line = "parent ".length() + hexChars + 1;
        while (text.startsWith("parent ", at) && text.length() >= at + line && text.charAt(at + line - 1) == '\n') {
            up.add(text.substring(at + "parent ".length(), at + line - 1));
            at += line;
        }
        return up;
    }

    private static MessageDigest digest(int idBytes) {
        try {
            return MessageDigest.getInstance(idBytes == 20 ? "SHA-1" : "SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-1 and SHA-256", e);
        }
    }

    /** The pack's bytes, with the position of each and a way to give back what zlib did not use. */
    private static final class Source {
        private final InputStream in;
        private final byte[] buffer = new byte[64 * 1024];
        private int start;
        private int end;
        private long position;
        private long inflatedInAll;

        Source(InputStream in) {
            this.in = in;
        }

        long position() {
            return position;
        }

        /** The next byte, or -1 at the end of the stream. */
        int readByte0() throws IOException {
            if (start == end && !fill()) {
                return -1;
            }
            position++;
            return buffer[start++] & 0xff;
        }

        int readByte() throws IOException {
            int c = readByte0();
            if (c < 0) {
                throw new EOFException("the push's pack ended early");
            }
            return c;
        }

        byte[] readExactly(int length) throws IOException {
            byte[] bytes = new byte[length];
            for (int i = 0; i < length; i++) {
                bytes[i] = (byte) readByte();
            }
            return bytes;
        }

        /** Inflates one zlib stream that must hold exactly {@code size} bytes; they are returned only when kept. */
        byte[] inflate(long size, boolean keep) throws IOException {
            Inflater inflater = new Inflater();
            try {
                byte[] kept = keep ? new byte[(int) size] : null;
                byte[] scratch = new byte[8192];
                long total = 0;
                while (!inflater.finished()) {
                    if (inflater.needsInput()) {
                        if (start == end && !fill()) {
                            throw new EOFException("the push's pack ended inside an object");
                        }
                        inflater.setInput(buffer, start, end - start);
                    }
                    int inflated = keep && total < size ? inflater.inflate(kept, (int) total, (int) (size - total))
                            : inflater.inflate(scratch);
                    if (inflater.needsDictionary()) {
                        throw new ProtocolException("an object in the push's pack asks for a zlib dictionary");
                    }
                    total += inflated;
                    inflatedInAll += inflated;
                    if (inflatedInAll > MAX_INFLATED_BYTES) {
                        throw new ProtocolException("the pack inflates to more than " + (MAX_INFLATED_BYTES >> 30)
                                + " GiB, more than the gateway reads");
                    }
                    if (total > size) {
                        throw new ProtocolException("an object in the push's pack is longer than its size");
                    }
                    int consumed = end - inflater.getRemaining();
                    position += consumed - start;
                    start = consumed;
                }
                if (total != size) {
                    throw new ProtocolException("an object in the push's pack is shorter than its size");
                }
                return kept;
            } catch (DataFormatException e) {
                throw new ProtocolException("an object in the push's pack is not zlib data");
            } finally {
                inflater.end();
            }
        }

        private boolean fill() throws IOException {
            int read = in.readNBytes(buffer, 0, 1);
            if (read == 0) {
                return false;
            }
            read += Math.max(0, in.read(buffer, 1, buffer.length - 1));
            start = 0;
            end = read;
            return true;
        }
    }
}
