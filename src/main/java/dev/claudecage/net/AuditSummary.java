package dev.claudecage.net;

import dev.claudecage.config.Sizes;
import dev.claudecage.host.UntrustedText;

import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * An audit log told for a person: when, how many decisions of each kind from each source, the
 * destinations reached (with bytes) and refused, how the cage started and ended, and whether the chain
 * holds. Every destination is the cage's choice and is shown escaped and cut short. {@link #of} counts;
 * {@link #text} tells it on a terminal, {@link AuditReportPage} on a page.
 *
 * @param first    the earliest time in the log, or null when it has none
 * @param last     the latest
 * @param bySource per source, how many lines of each decision
 * @param reached  allowed destinations (HOST:PORT, as the cage chose them, unescaped), in order of first appearance
 * @param refused  denied or cut-off destinations
 * @param cage     the trail's lines about the cage itself: what it started from, how it ended
 */
public record AuditSummary(Instant first, Instant last, Map<String, Map<String, Long>> bySource,
                           Map<String, Tally> reached, Map<String, Tally> refused, List<AuditEvent> cage) {

    /** How many destinations each list shows, the most frequent first. */
    static final int SHOWN = 20;
    /** The source of the trail's lines about the cage itself (runtime.CageTrail writes them). */
    public static final String CAGE_SOURCE = "cage";

    /** One destination's lines: how many, from which sources, and the bytes each way. */
    public static final class Tally {
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

        public long count() {
            return count;
        }

        public long sent() {
            return sent;
        }

        public long received() {
            return received;
        }

        /** "proxy 2, dns 1", the sources escaped. */
        public String sources() {
            StringBuilder out = new StringBuilder();
            bySource.forEach((source, count) -> out.append(out.length() == 0 ? "" : ", ")
                    .append(UntrustedText.excerptLine(source)).append(' ').append(count));
            return out.toString();
        }
    }

    public static AuditSummary of(List<AuditEvent> events) {
        Instant first = events.stream().map(AuditEvent::time).filter(Objects::nonNull).min(Comparator.naturalOrder())
                .orElse(null);
        Instant last = events.stream().map(AuditEvent::time).filter(Objects::nonNull).max(Comparator.naturalOrder())
                .orElse(null);
        Map<String, Map<String, Long>> bySource = new TreeMap<>();
        Map<String, Tally> reached = new LinkedHashMap<>();
        Map<String, Tally> refused = new LinkedHashMap<>();
        for (AuditEvent event : events) {
            bySource.computeIfAbsent(String.valueOf(event.source()), source -> new TreeMap<>())
                    .merge(String.valueOf(event.decision()), 1L, Long::sum);
            if (event.destination() == null) {
                continue;
            }
            String destination = event.destination() + (event.port() == null ? "" : ":" + event.port());
            Map<String, Tally> list = AuditEvent.ALLOWED.equals(event.decision()) ? reached : refused;
            list.computeIfAbsent(destination, key -> new Tally()).add(event);
        }
        return new AuditSummary(first, last, bySource, reached, refused,
                events.stream().filter(event -> CAGE_SOURCE.equals(event.source())).toList());
    }

    /** The {@value #SHOWN} most frequent of {@code destinations}, most frequent first. */
    static List<Map.Entry<String, Tally>> mostFrequent(Map<String, Tally> destinations) {
        return destinations.entrySet().stream()
                .sorted(Map.Entry.<String, Tally>comparingByValue(Comparator.comparingLong(Tally::count)).reversed())
                .limit(SHOWN)
                .toList();
    }

    public static String text(List<AuditEvent> events, AuditChain chain, String from) {
        AuditSummary summary = of(events);
        StringBuilder out = new StringBuilder("Audit log: ").append(UntrustedText.excerptLine(from)).append('\n');
        out.append("  ").append(chain.lines()).append(chain.lines() == 1 ? " line" : " lines");
        if (summary.first() != null) {
            out.append(", ").append(summary.first()).append(" to ").append(summary.last());
        }
        out.append("\n  chain: ").append(chainText(chain)).append('\n');
        out.append("Decisions by source:\n");
        summary.bySource().forEach((source, decisions) -> {
            out.append("  ").append(UntrustedText.excerptLine(source)).append(':');
            decisions.forEach((decision, count) -> out.append(' ').append(UntrustedText.excerptLine(decision)).append(' ')
                    .append(count));
            out.append('\n');
        });
        if (!summary.cage().isEmpty()) {
            out.append("The cage (how it started and ended):\n");
            summary.cage().forEach(event -> out.append("  ").append(event.time()).append(' ')
                    .append(UntrustedText.excerptLine(String.valueOf(event.decision()))).append(": ")
                    .append(UntrustedText.excerptLine(String.valueOf(event.reason()))).append('\n'));
        }
        list(out, "Reached (allowed)", summary.reached(), true);
        list(out, "Refused or cut off", summary.refused(), false);
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
        for (Map.Entry<String, Tally> entry : mostFrequent(destinations)) {
            Tally tally = entry.getValue();
            out.append("  ").append(UntrustedText.excerptLine(entry.getKey())).append("  ").append(tally.count)
                    .append(" (").append(tally.sources()).append(')');
            if (bytes && (tally.sent > 0 || tally.received > 0)) {
                out.append(", ").append(Sizes.format(tally.sent)).append(" sent, ")
                        .append(Sizes.format(tally.received)).append(" received");
            }
            out.append('\n');
        }
    }
}
