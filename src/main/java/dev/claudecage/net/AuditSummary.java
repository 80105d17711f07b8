package dev.claudecage.net;

import dev.claudecage.config.Sizes;
import dev.claudecage.host.UntrustedText;

import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An audit log told for a person: when, how many decisions of each kind from each source, the
 * destinations reached (with bytes) and refused, and whether the chain holds. Every destination is
 * the cage's choice and is shown escaped and cut short.
 */
public final class AuditSummary {

    /** How many destinations each list shows, the most frequent first. */
    static final int SHOWN = 20;

    private AuditSummary() {
    }

    public static String text(List<AuditEvent> events, AuditChain chain, String from) {
        StringBuilder out = new StringBuilder("Audit log: ").append(UntrustedText.excerptLine(from)).append('\n');
        Instant first = events.stream().map(AuditEvent::time).filter(time -> time != null).min(Comparator.naturalOrder())
                .orElse(null);
        Instant last = events.stream().map(AuditEvent::time).filter(time -> time != null).max(Comparator.naturalOrder())
                .orElse(null);
        out.append("  ").append(chain.lines()).append(chain.lines() == 1 ? " line" : " lines");
        if (first != null) {
            out.append(", ").append(first).append(" to ").append(last);
        }
        out.append("\n  chain: ").append(chainText(chain)).append('\n');
        Map<String, Map<String, Long>> bySource = new TreeMap<>();
        Map<String, Tally> reached = new LinkedHashMap<>();
        Map<String, Tally> refused = new LinkedHashMap<>();
        for (AuditEvent event : events) {
            bySource.computeIfAbsent(event.source(), source -> new TreeMap<>()).merge(event.decision(), 1L, Long::sum);
            if (event.destination() == null) {
                continue;
            }
            String destination = UntrustedText.excerptLine(event.destination()) + (event.port() == null ? "" : ":" + event.port());
            Map<String, Tally> list = AuditEvent.ALLOWED.equals(event.decision()) ? reached : refused;
            list.computeIfAbsent(destination, key -> new Tally()).add(event);
        }
        out.append("Decisions by source:\n");
        bySource.forEach((source, decisions) -> {
            out.append("  ").append(UntrustedText.excerptLine(String.valueOf(source))).append(':');
            decisions.forEach((decision, count) -> out.append(' ').append(UntrustedText.excerptLine(String.valueOf(decision))).append(' ')
                    .append(count));
            out.append('\n');
        });
        list(out, "Reached (allowed)", reached, true);
        list(out, "Refused or cut off", refused, false);
        return out.toString();
    }

    /** The chain's state in words: "intact" only when every line is chained to the one before it. */
    public static String chainText(AuditChain chain) {
        return chain.intact() ? "intact (each line carries the SHA-256 of the line before it; the last line's is "
                + chain.lastSha256() + ")"
                : "broken at line " + chain.firstBroken() + ": " + chain.problem();
    }

    private static void list(StringBuilder out, String title, Map<String, Tally> destinations, boolean bytes) {
        if (destinations.isEmpty()) {
            return;
        }
        out.append(title).append(", ").append(destinations.size()).append(destinations.size() == 1 ? " destination" : " destinations")
                .append(destinations.size() > SHOWN ? ", the " + SHOWN + " most frequent" : "").append(":\n");
        destinations.entrySet().stream()
                .sorted(Map.Entry.<String, Tally>comparingByValue(Comparator.comparingLong(tally -> tally.count)).reversed())
                .limit(SHOWN)
                .forEach(entry -> {
                    Tally tally = entry.getValue();
                    out.append("  ").append(entry.getKey()).append("  ").append(tally.count).append(" (");
                    StringBuilder sources = new StringBuilder();
                    tally.bySource.forEach((source, count) -> sources.append(sources.length() == 0 ? "" : ", ")
                            .append(UntrustedText.excerptLine(String.valueOf(source))).append(' ').append(count));
                    out.append(sources).append(')');
                    if (bytes && (tally.sent > 0 || tally.received > 0)) {
                        out.append(", ").append(Sizes.format(tally.sent)).append(" sent, ")
                                .append(Sizes.format(tally.received)).append(" received");
                    }
                    out.append('\n');
                });
    }

    private static final class Tally {
        long count;
        long sent;
        long received;
        final Map<String, Long> bySource = new TreeMap<>();

        void add(AuditEvent event) {
            count++;
            sent += event.bytesSent() == null ? 0 : event.bytesSent();
            received += event.bytesReceived() == null ? 0 : event.bytesReceived();
            bySource.merge(String.valueOf(event.source()), 1L, Long::sum);
        }
    }
}
