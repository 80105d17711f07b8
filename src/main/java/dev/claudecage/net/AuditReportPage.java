package dev.claudecage.net;

import dev.claudecage.config.Sizes;
import dev.claudecage.host.UntrustedText;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An audit log as one self-contained HTML page ({@code report --html FILE}): how the chain checked, how
 * the cage started and ended, a timeline of decisions per minute (an inline SVG bar chart), the hosts
 * reached and refused, the credentials the gateways used, the git refs pushed and repositories fetched,
 * the files changed. No script, no external resource (its Content-Security-Policy forbids both), so it
 * opens the same anywhere and shows nothing the trail does not hold.
 * <p>
 * Every string from the trail is the cage's choice, so each is shown as {@link UntrustedText#excerptLine}
 * shows it on a terminal (control characters and bidi overrides made visible, cut short) and then
 * HTML-escaped: a host name {@code <script>} is text on the page, never markup.
 */
public final class AuditReportPage {

    /** The sources whose lines are a credential the host holds, used on the cage's behalf. */
    private static final Map<String, String> CREDENTIALS = Map.of(
            "gateway", "API key or Claude login (API gateway)",
            "git", "git token (git gateway)",
            "ssh-agent", "SSH agent (relay)");
    /** The source of the lines that say what the cage changed in a writable mount. */
    public static final String FILES_SOURCE = "files";
    private static final String GIT_SOURCE = "git";
    /** The source of a --clone session's commits in its copy. */
    public static final String COMMITS_SOURCE = "commits";
    /** The most lines a list of single lines (git, files) shows. */
    static final int LINES_SHOWN = 200;
    /** The most bars of the timeline: a longer span puts several minutes in one bar. */
    static final int MAX_BARS = 120;
    /** The chart's width, which its bars share: each at least {@value #MIN_BAR_WIDTH}, at most {@value #MAX_BAR_WIDTH} pixels. */
    private static final int CHART_WIDTH = 720;
    private static final int MIN_BAR_WIDTH = 6;
    private static final int MAX_BAR_WIDTH = 48;
    /** The narrowest chart, and the narrowest run of bars with room for the times at both of its ends. */
    private static final int MIN_CHART_WIDTH = 160;
    private static final int CHART_HEIGHT = 120;
    /** Where HH:MM stands in an Instant's text (2026-12-07T10:15:00Z), and its length. */
    private static final int CLOCK_START = 11;
    private static final int CLOCK_LENGTH = 5;
    /** Room below the bars for the times at both ends. */
    private static final int LABEL_HEIGHT = 18;

    private AuditReportPage() {
    }

    public static String html(List<AuditEvent> events, AuditChain chain, String from) {
        AuditSummary summary = AuditSummary.of(events);
        StringBuilder out = new StringBuilder(16 * 1024);
        out.append("""
                <!DOCTYPE html>
                <html lang="en">
                <head>
                <meta charset="utf-8">
                <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
                <title>claude-cage evidence trail</title>
                <style>
                body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;max-width:72em}
                h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}
                table{border-collapse:collapse}td,th{padding:.2em .8em;text-align:left;vertical-align:top;border-bottom:1px solid #eee}
                td.n{text-align:right}code,.t{font-family:ui-monospace,monospace;font-size:.92em;overflow-wrap:anywhere}
                td.time{white-space:nowrap}
                .ok{background:#e6f4ea;border-left:6px solid #1e8e3e;padding:.5em 1em}
                .broken{background:#fce8e6;border-left:6px solid #d93025;padding:.5em 1em}
                .allowed{color:#1e8e3e}.denied,.cut-off,.failed,.signalled{color:#d93025}.none{color:#777}
                </style>
                </head>
                <body>
                <h1>claude-cage evidence trail</h1>
                """);
        out.append("<p>").append(text(from)).append("<br>").append(chain.lines()).append(chain.lines() == 1 ? " line" : " lines");
        if (summary.first() != null) {
            out.append(", ").append(summary.first()).append(" to ").append(summary.last());
        }
        out.append("</p>\n");
        out.append("<section id=\"chain\" class=\"").append(chain.intact() ? "ok" : "broken").append("\"><h2>Chain check: ")
                .append(chain.intact() ? "intact" : "BROKEN").append("</h2><p>").append(text(AuditSummary.chainText(chain)))
                .append("</p></section>\n");
        lines(out, "ending", "How the cage started and ended", summary.cage(), "no line about the cage: a log from before "
                + "the trail had them, or its end was cut off");
        timeline(out, events, summary);
        destinations(out, "reached", "Hosts reached", summary.reached(), true);
        destinations(out, "refused", "Hosts refused or cut off", summary.refused(), false);
        credentials(out, events);
        lines(out, "git", "Git refs pushed, repositories fetched, commits made", events.stream()
                .filter(event -> COMMITS_SOURCE.equals(event.source()) || GIT_SOURCE.equals(event.source())
                        && event.reason() != null && (event.reason().startsWith("push ") || event.reason().startsWith("fetch ")))
                .toList(), "no push or fetch through the git gateway, no commit in a --clone copy");
        lines(out, "files", "Files changed", events.stream().filter(event -> FILES_SOURCE.equals(event.source())).toList(),
                "no change recorded in a writable mount");
        out.append("<section id=\"sources\"><h2>Decisions by source</h2><table>\n<tr><th>source</th><th>decisions</th></tr>\n");
        summary.bySource().forEach((source, decisions) -> {
            out.append("<tr><td>").append(text(source)).append("</td><td>");
            decisions.forEach((decision, count) -> out.append("<span class=\"").append(cssClass(decision)).append("\">")
                    .append(text(decision)).append(' ').append(count).append("</span> "));
            out.append("</td></tr>\n");
        });
        out.append("</table></section>\n</body>\n</html>\n");
        return out.toString();
    }

    /** Decisions per minute (or per several, for a long trail) as stacked bars: allowed below, refused above. */
    private static void timeline(StringBuilder out, List<AuditEvent> events, AuditSummary summary) {
        out.append("<section id=\"timeline\"><h2>Timeline</h2>\n");
        if (summary.first() == null) {
            out.append("<p class=\"none\">no timed line</p></section>\n");
            return;
        }
        Instant start = summary.first().truncatedTo(ChronoUnit.MINUTES);
        long minutes = Duration.between(start, summary.last()).toMinutes() + 1;
        long perBar = (minutes + MAX_BARS - 1) / MAX_BARS;
        int bars = (int) ((minutes + perBar - 1) / perBar);
        long[] allowed = new long[bars];
        long[] refused = new long[bars];
        for (AuditEvent event : events) {
            if (event.time() == null) {
                continue;
            }
            int bar = (int) (Duration.between(start, event.time()).toMinutes() / perBar);
            if (AuditEvent.ALLOWED.equals(event.decision())) {
                allowed[bar]++;
            } else if (AuditEvent.DENIED.equals(event.decision()) || AuditEvent.CUT_OFF.equals(event.decision())) {
                refused[bar]++;
            }
        }
        long most = 1;
        for (int i = 0; i < bars; i++) {
            most = Math.max(most, allowed[i] + refused[i]);
        }
        int barWidth = Math.max(MIN_BAR_WIDTH, Math.min(MAX_BAR_WIDTH, CHART_WIDTH / bars));
        int width = Math.max(MIN_CHART_WIDTH, bars * barWidth);
        int height = CHART_HEIGHT + 2 + LABEL_HEIGHT;
        out.append("<p>Decisions per ").append(perBar == 1 ? "minute" : perBar + " minutes").append(" from ").append(start)
                .append(" (UTC); the tallest bar is ").append(most).append(": <span class=\"allowed\">allowed</span>, ")
                .append("<span class=\"denied\">refused or cut off</span>.</p>\n");
        out.append("<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"decisions per minute\" width=\"")
                .append(width + 2).append("\" height=\"").append(height).append("\" viewBox=\"0 0 ")
                .append(width + 2).append(' ').append(height).append("\">\n")
                .append("<rect x=\"0\" y=\"0\" width=\"").append(width + 2).append("\" height=\"").append(CHART_HEIGHT + 2)
                .append("\" fill=\"#fafafa\" stroke=\"#ccc\"/>\n");
        for (int i = 0; i < bars; i++) {
            if (allowed[i] + refused[i] == 0) {
                continue;
            }
            long allowedHeight = allowed[i] * CHART_HEIGHT / most;
            long refusedHeight = refused[i] * CHART_HEIGHT / most;
            int x = 1 + i * barWidth;
            out.append("<g class=\"bar\"><title>").append(start.plus(Duration.ofMinutes(i * perBar))).append(": ")
                    .append(allowed[i]).append(" allowed, ").append(refused[i]).append(" refused or cut off</title>");
            bar(out, x, barWidth, CHART_HEIGHT + 1 - allowedHeight, allowedHeight, "#1e8e3e");
            bar(out, x, barWidth, CHART_HEIGHT + 1 - allowedHeight - refusedHeight, refusedHeight, "#d93025");
            out.append("</g>\n");
        }
        String label = "<text y=\"" + (height - 4) + "\" font-size=\"11\" fill=\"#555\" ";
        out.append(label).append("x=\"2\">").append(clock(start)).append(" UTC</text>\n");
        if (bars * barWidth >= MIN_CHART_WIDTH) {
            out.append(label).append("x=\"").append(1 + bars * barWidth).append("\" text-anchor=\"end\">")
                    .append(clock(start.plus(Duration.ofMinutes(bars * perBar)))).append("</text>\n");
        }
        out.append("</svg></section>\n");
    }

    /** HH:MM of a time, in UTC. */
    private static String clock(Instant time) {
        return time.toString().substring(CLOCK_START, CLOCK_START + CLOCK_LENGTH);
    }

    private static void bar(StringBuilder out, int x, int width, long y, long height, String colour) {
        if (height > 0) {
            out.append("<rect x=\"").append(x).append("\" y=\"").append(y).append("\" width=\"").append(width - 1)
                    .append("\" height=\"").append(height).append("\" fill=\"").append(colour).append("\"/>");
        }
    }

    private static void destinations(StringBuilder out, String id, String title, Map<String, AuditSummary.Tally> destinations,
                                     boolean bytes) {
        out.append("<section id=\"").append(id).append("\"><h2>").append(title).append(" (").append(destinations.size())
                .append(")</h2>\n");
        if (destinations.isEmpty()) {
            out.append("<p class=\"none\">none</p></section>\n");
            return;
        }
        if (destinations.size() > AuditSummary.SHOWN) {
            out.append("<p>The ").append(AuditSummary.SHOWN).append(" most frequent.</p>\n");
        }
        out.append("<table>\n<tr><th>destination</th><th>lines</th><th>sources</th>")
                .append(bytes ? "<th>sent</th><th>received</th>" : "").append("</tr>\n");
        for (Map.Entry<String, AuditSummary.Tally> entry : AuditSummary.mostFrequent(destinations)) {
            AuditSummary.Tally tally = entry.getValue();
            out.append("<tr><td class=\"t\">").append(text(entry.getKey())).append("</td><td class=\"n\">").append(tally.count())
                    .append("</td><td>").append(html(tally.sources())).append("</td>");
            if (bytes) {
                out.append("<td class=\"n\">").append(Sizes.format(tally.sent())).append("</td><td class=\"n\">")
                        .append(Sizes.format(tally.received())).append("</td>");
            }
            out.append("</tr>\n");
        }
        out.append("</table></section>\n");
    }

    /** Per credential the host holds and destination: how many requests it was used for, and how many were refused. */
    private static void credentials(StringBuilder out, List<AuditEvent> events) {
        Map<String, long[]> uses = new TreeMap<>();
        for (AuditEvent event : events) {
            String credential = CREDENTIALS.get(event.source());
            if (credential == null) {
                continue;
            }
            long[] counts = uses.computeIfAbsent(credential + "\n" + event.destination(), key -> new long[2]);
            counts[AuditEvent.ALLOWED.equals(event.decision()) ? 0 : 1]++;
        }
        out.append("<section id=\"credentials\"><h2>Credentials used</h2>\n");
        if (uses.isEmpty()) {
            out.append("<p class=\"none\">no line from a gateway that holds a credential</p></section>\n");
            return;
        }
        out.append("<table>\n<tr><th>credential (kept on the host)</th><th>destination</th><th>allowed</th><th>refused or cut off</th></tr>\n");
        uses.forEach((key, counts) -> {
            int newline = key.indexOf('\n');
            out.append("<tr><td>").append(html(key.substring(0, newline))).append("</td><td class=\"t\">")
                    .append(text(key.substring(newline + 1))).append("</td><td class=\"n\">").append(counts[0])
                    .append("</td><td class=\"n\">").append(counts[1]).append("</td></tr>\n");
        });
        out.append("</table></section>\n");
    }

    /** A list of single lines, time, decision and what they say, at most {@value #LINES_SHOWN}. */
    private static void lines(StringBuilder out, String id, String title, List<AuditEvent> lines, String none) {
        out.append("<section id=\"").append(id).append("\"><h2>").append(title).append("</h2>\n");
        if (lines.isEmpty()) {
            out.append("<p class=\"none\">").append(none).append("</p></section>\n");
            return;
        }
        if (lines.size() > LINES_SHOWN) {
            out.append("<p>The first ").append(LINES_SHOWN).append(" of ").append(lines.size()).append(" lines.</p>\n");
        }
        out.append("<table>\n<tr><th>time</th><th>decision</th><th>what</th></tr>\n");
        lines.stream().limit(LINES_SHOWN).forEach(event -> out.append("<tr><td class=\"t time\">").append(event.time())
                .append("</td><td class=\"").append(cssClass(event.decision())).append("\">").append(text(event.decision()))
                .append("</td><td class=\"t\">").append(text(event.reason()))
                .append(event.destination() == null ? "" : " (" + text(event.destination()) + ")").append("</td></tr>\n"));
        out.append("</table></section>\n");
    }

    /** A decision as a class name: one of the few the style knows, else none, as the value is the cage's to choose. */
    private static String cssClass(String decision) {
        return decision != null && decision.matches("[a-z-]{1,16}") ? decision : "other";
    }

    /** Text from the trail: control characters and bidi controls shown, cut short, then HTML-escaped. */
    static String text(String untrusted) {
        return html(UntrustedText.excerptLine(String.valueOf(untrusted)));
    }

    /** {@code plain} HTML-escaped, for an element's text or a quoted attribute. */
    static String html(String plain) {
        StringBuilder out = new StringBuilder(plain.length() + 16);
        for (int i = 0; i < plain.length(); i++) {
            char c = plain.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
