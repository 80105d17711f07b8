package dev.claudecage.net.gateway;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The answer a {@code git-receive-pack} server gives when it turns ref updates down, written by the gateway
 * for a push it does not forward, so that git in the cage shows why, ref by ref, as it shows a server's own
 * refusals ({@code ! [remote rejected] main -> main (reason)}): a report-status of {@code unpack ok} and one
 * {@code ng <ref> <reason>} per update, and, where the client asked for side-band, that report on band 1 and a
 * line of explanation on band 2 (git prints it as {@code remote: ...}). Nothing the upstream has changes: the
 * pack never leaves the host.
 */
final class ReceivePackRefusal {

    static final String CONTENT_TYPE = "application/x-git-receive-pack-result";
    /** pkt-line data per side-band packet: 65520 with side-band-64k, 1000 with side-band, less the length and band byte. */
    private static final int SIDE_BAND_64K_DATA = 65520 - 5;
    private static final int SIDE_BAND_DATA = 1000 - 5;

    private ReceivePackRefusal() {
    }

    /**
     * The response body.
     *
     * @param reasons one per update, in the push's order: why it is refused (one line, no cage bytes but the
     *                checked ref name)
     * @param message what git prints as {@code remote: ...} when the client takes side-band
     */
    static byte[] body(ReceivePackCommands push, List<String> reasons, String message) {
        if (reasons.size() != push.commands().size()) {
            throw new IllegalArgumentException("one reason per ref update");
        }
        ByteArrayOutputStream report = new ByteArrayOutputStream();
        writePacket(report, "unpack ok\n".getBytes(StandardCharsets.US_ASCII));
        for (int i = 0; i < reasons.size(); i++) {
            String line = "ng " + push.commands().get(i).ref() + " " + oneLine(reasons.get(i)) + "\n";
            writePacket(report, line.getBytes(StandardCharsets.UTF_8));
        }
        report.writeBytes(flush());
        int sideBand = push.capabilities().contains("side-band-64k") ? SIDE_BAND_64K_DATA
                : push.capabilities().contains("side-band") ? SIDE_BAND_DATA : 0;
        if (sideBand == 0) {
            return report.toByteArray();
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String line : message.split("\n")) {
            writeBand(out, 2, (oneLine(line) + "\n").getBytes(StandardCharsets.UTF_8), sideBand);
        }
        writeBand(out, 1, report.toByteArray(), sideBand);
        out.writeBytes(flush());
        return out.toByteArray();
    }

    private static void writeBand(ByteArrayOutputStream out, int band, byte[] data, int perPacket) {
        for (int at = 0; at < data.length; at += perPacket) {
            int length = Math.min(perPacket, data.length - at);
            byte[] payload = new byte[length + 1];
            payload[0] = (byte) band;
            System.arraycopy(data, at, payload, 1, length);
            writePacket(out, payload);
        }
    }

    private static void writePacket(ByteArrayOutputStream out, byte[] payload) {
        out.writeBytes(String.format("%04x", payload.length + 4).getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(payload);
    }

    private static byte[] flush() {
        return "0000".getBytes(StandardCharsets.US_ASCII);
    }

    /** git reads a reason up to the line's end: one line, at most a few hundred characters. */
    private static String oneLine(String text) {
        String line = text.replaceAll("[\\x00-\\x1f\\x7f]", " ");
        return line.length() > 900 ? line.substring(0, 900) + "..." : line;
    }
}
