package dev.claudecage.net.gateway;

import dev.claudecage.host.UntrustedText;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The ref updates at the head of a {@code git-receive-pack} request, read as git's pack protocol writes them
 * (gitprotocol-pack(5)): optional {@code shallow <id>} pkt-lines, then one {@code <old-id> <new-id> <ref>}
 * pkt-line per update, the first with {@code \0} and the client's capabilities, then a flush packet; push
 * options and the pack follow, and are not read here. Every byte is the cage's: sizes and counts are bounded
 * (what is held until the decision is at most about {@value #MAX_COMMANDS} times a {@value #MAX_REF_CHARS}-character
 * update, as each line is checked when it is read),
 * ids must be hex of one length, ref names must be ones git itself would accept, and anything else is
 * refused as malformed rather than guessed at. A signed push ({@code push-cert}) is refused: its updates sit
 * inside a certificate. A push without updates (a lone flush packet) is git's probe before a large push, which
 * changes nothing: receive-pack reads no pack without updates.
 *
 * @param commands     the ref updates, in order
 * @param capabilities what the client asked for on the first update, e.g. report-status and side-band-64k
 * @param bytes        every byte read, to be sent on unchanged when the push is allowed
 */
record ReceivePackCommands(List<Command> commands, Set<String> capabilities, byte[] bytes) {

    static final int MAX_COMMANDS = 1000;
    static final int MAX_SHALLOW = 1000;
    /** The longest ref name taken; git has no limit, but no branch needs more, and the rules' globs are matched against it. */
    static final int MAX_REF_CHARS = 1024;
    /** pkt-line's own limit: four length digits and 65516 bytes of data. */
    static final int MAX_PKT_LENGTH = 65520;
    private static final int MAX_CAPABILITY_CHARS = 4096;

    private static final Pattern ID = Pattern.compile("[0-9a-f]{40}|[0-9a-f]{64}");
    private static final Pattern COMMAND = Pattern.compile("([0-9a-f]{40}|[0-9a-f]{64}) ([0-9a-f]{40}|[0-9a-f]{64}) (\\S+)");
    private static final Pattern REF = Pattern.compile("refs/[\\x21-\\x7e&&[^~^:?*\\[\\\\]]+");
    private static final Pattern CAPABILITIES = Pattern.compile("[\\x21-\\x7e ]*");

    ReceivePackCommands {
        commands = List.copyOf(commands);
        capabilities = Set.copyOf(capabilities);
    }

    /**
     * One ref update. An all-zero old id creates the ref, an all-zero new id deletes it.
     */
    record Command(String oldId, String newId, String ref) {

        boolean creates() {
            return isZero(oldId);
        }

        boolean deletes() {
            return isZero(newId);
        }

        /** For audit lines and messages: {@code refs/heads/x OLD..NEW}. */
        String describe() {
            return ref + " " + oldId + ".." + newId;
        }

        private static boolean isZero(String id) {
            return id.chars().allMatch(c -> c == '0');
        }
    }

    /**
     * Reads the updates and the flush packet after them, and nothing more.
     *
     * @throws ProtocolException when the bytes are not a push's ref updates, or more than this class takes
     * @throws IOException       when the stream fails or ends early
     */
    static ReceivePackCommands read(InputStream in) throws IOException {
        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        List<Command> commands = new ArrayList<>();
        Set<String> capabilities = Set.of();
        int shallow = 0;
        while (true) {
            byte[] payload = readPacket(in, seen);
            if (payload == null) {
                break;
            }
            String line = new String(payload, StandardCharsets.ISO_8859_1);
            if (line.endsWith("\n")) {
                line = line.substring(0, line.length() - 1);
            }
            if (commands.isEmpty() && line.startsWith("shallow ")) {
                if (++shallow > MAX_SHALLOW || !ID.matcher(line.substring("shallow ".length())).matches()) {
                    throw new ProtocolException(shallow > MAX_SHALLOW ? "more than " + MAX_SHALLOW + " shallow lines"
                            : "a malformed shallow line: " + UntrustedText.excerpt(line));
                }
                continue;
            }
            if (commands.isEmpty() && line.startsWith("push-cert")) {
                throw new ProtocolException("a signed push (push-cert): the gateway reads only plain ref updates");
            }
            if (commands.size() == MAX_COMMANDS) {
                throw new ProtocolException("more than " + MAX_COMMANDS + " ref updates in one push");
            }
            int nul = line.indexOf('\0');
            if (nul >= 0) {
                if (!commands.isEmpty()) {
                    throw new ProtocolException("capabilities after the first ref update");
                }
                capabilities = capabilities(line.substring(nul + 1));
                line = line.substring(0, nul);
            }
            commands.add(command(line));
        }
        return new ReceivePackCommands(commands, capabilities, seen.toByteArray());
    }

    private static Command command(String line) throws ProtocolException {
        Matcher matcher = COMMAND.matcher(line);
        if (!matcher.matches() || matcher.group(1).length() != matcher.group(2).length()) {
            throw new ProtocolException("a malformed ref update: " + UntrustedText.excerpt(line));
        }
        String ref = matcher.group(3);
        if (ref.length() > MAX_REF_CHARS || !REF.matcher(ref).matches() || ref.contains("..") || ref.contains("//")
                || ref.contains("@{") || ref.endsWith("/") || ref.endsWith(".") || ref.endsWith(".lock")
                || Arrays.stream(ref.split("/")).anyMatch(part -> part.startsWith("."))) {
            throw new ProtocolException("a ref update of '" + UntrustedText.excerpt(ref) + "', which is not a ref name "
                    + "git accepts under refs/");
        }
        if (Command.isZero(matcher.group(1)) && Command.isZero(matcher.group(2))) {
            throw new ProtocolException("a ref update from the zero id to the zero id: " + ref);
        }
        return new Command(matcher.group(1), matcher.group(2), ref);
    }

    private static Set<String> capabilities(String text) throws ProtocolException {
        if (text.length() > MAX_CAPABILITY_CHARS || !CAPABILITIES.matcher(text).matches()) {
            throw new ProtocolException("malformed capabilities: " + UntrustedText.excerpt(text));
        }
        return Set.copyOf(Arrays.stream(text.split(" ")).filter(word -> !word.isEmpty()).toList());
    }

    /** Reads the push options that follow the updates when the client asked for push-options, up to their flush. */
    static void skipPushOptions(InputStream in) throws IOException {
        ByteArrayOutputStream ignored = new ByteArrayOutputStream();
        for (int count = 0; readPacket(in, ignored) != null; count++) {
            if (count == MAX_COMMANDS) {
                throw new ProtocolException("more than " + MAX_COMMANDS + " push options");
            }
            ignored.reset();
        }
    }

    /** The payload of the next pkt-line, kept in {@code seen} with its length; null for a flush packet. */
    private static byte[] readPacket(InputStream in, ByteArrayOutputStream seen) throws IOException {
        byte[] header = in.readNBytes(4);
        if (header.length < 4) {
            throw new EOFException("the push ended before the end of its ref updates");
        }
        seen.write(header);
        String digits = new String(header, StandardCharsets.US_ASCII);
        if (!digits.matches("[0-9a-f]{4}")) {
            throw new ProtocolException("a malformed pkt-line length: " + UntrustedText.excerpt(digits));
        }
        int length = Integer.parseInt(digits, 16);
        if (length == 0) {
            return null;
        }
        if (length <= 4 || length > MAX_PKT_LENGTH) {
            throw new ProtocolException("a pkt-line of length " + length + " where a ref update belongs");
        }

        byte[] payload = in.readNBytes(length - 4);
        if (payload.length < length - 4) {
            throw new EOFException("the push ended inside a pkt-line");
        }
        seen.write(payload);
        return payload;
    }
}
