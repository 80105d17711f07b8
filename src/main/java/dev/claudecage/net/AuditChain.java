package dev.claudecage.net;

import dev.claudecage.json.Json;

import java.nio.file.Path;

/**
 * Whether an audit log is the chain its writer left: each line carries the SHA-256 of the line before
 * it ({@link AuditEvent#previousSha256}), the first line none. A line changed, removed or inserted
 * breaks the chain at the first line after it that no longer matches; lines cut from the start break
 * it at the new first line. Lines cut from the end cannot be seen this way: what is left is a whole
 * chain (the evidence trail's last line, written at the end of a run, shows that it ended).
 *
 * @param lines      lines read
 * @param firstBroken the number of the first line that breaks the chain, or 0 when none does
 * @param problem    what is wrong with that line, or null
 * @param lastSha256 the SHA-256 of the last line (null for an empty file): compared with the one the writer
 *                   printed, it shows that nothing was cut from the end, or rewritten with a chain of its own
 */
public record AuditChain(long lines, long firstBroken, String problem, String lastSha256) {

    public boolean intact() {
        return firstBroken == 0;
    }

    public static AuditChain check(Path file) {
        Walk walk = new Walk();
        AuditLog.eachLine(file, walk::next);
        return new AuditChain(walk.lines, walk.firstBroken, walk.problem, walk.lastSha256);
    }

    /** This result, also broken when the last line is not the one whose SHA-256 the writer gave. */
    public AuditChain endingWith(String expectedSha256) {
        if (!intact() || expectedSha256.equalsIgnoreCase(String.valueOf(lastSha256))) {
            return this;
        }
        return new AuditChain(lines, Math.max(lines, 1), "the last line's SHA-256 is " + lastSha256 + ", not "
                + expectedSha256 + ": lines were cut from the end, added after it, or the file was rewritten", lastSha256);
    }

    private static final class Walk {
        long lines;
        long firstBroken;
        String problem;
        String previousSha256;
        String lastSha256;

        void next(String text, long number) {
            lines = number;
            lastSha256 = text == null ? null : AuditEvent.sha256Hex(text);
            if (firstBroken != 0) {
                return;
            }
            String why = problem(text, number);
            if (why != null) {
                firstBroken = number;
                problem = why;
                return;
            }
            previousSha256 = AuditEvent.sha256Hex(text);
        }

        private String problem(String text, long number) {
            if (text == null) {
                return "longer than any line the audit log writes";
            }
            AuditEvent event;
            try {
                event = Json.read(text, AuditEvent.class);
            } catch (RuntimeException notAnEvent) {
                return "not an audit event";
            }
            String carried = event.previousSha256();
            if (number == 1) {
                return carried == null ? null
                        : "chains to a line before it, which the file does not hold: lines were removed from its start";
            }
            if (carried == null) {
                return "carries no previousSha256: it was written by a claude-cage from before the chain, or changed";
            }
            if (!carried.equals(previousSha256)) {
                return "its previousSha256 is not that of line " + (number - 1) + ": a line was changed, removed "
                        + "or inserted between them";
            }
            return null;
        }
    }
}
