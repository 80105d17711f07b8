package dev.claudecage.net;

import dev.claudecage.testing.Golden;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 18: report --html, one self-contained page from a trail whose strings the cage wrote. */
class AuditReportPageTest {

    private static final Instant T = Instant.parse("2026-12-07T10:00:00Z");
    /** The tags the page itself writes: anything else that opens with '<' came from the trail unescaped. */
    private static final Pattern OWN_TAGS = Pattern.compile("</?(!DOCTYPE|html|head|meta|title|style|body|h1|h2|p|br|section|table"
            + "|tr|th|td|span|svg|rect|g|text)[ >/]");

    /** A trail with a line of each kind the page shows, over three minutes. */
    static List<AuditEvent> fixedTrail() {
        return List.of(
                new AuditEvent(T, "cage", null, null, "started", "cage fix started from image sha256:abc; policy record "
                        + "sha256:0123; network filtered", null, null),
                new AuditEvent(T.plusSeconds(5), "dns", "registry.npmjs.org", null, AuditEvent.ALLOWED, "A answered", null, null),
                new AuditEvent(T.plusSeconds(6), "proxy", "registry.npmjs.org", 443, AuditEvent.ALLOWED, "CONNECT", 2048L, 1048576L),
                new AuditEvent(T.plusSeconds(40), "gateway", "api.anthropic.com", 443, AuditEvent.ALLOWED,
                        "POST /v1/messages 200: forwarded", 5000L, 12000L),
                new AuditEvent(T.plusSeconds(70), "proxy", "evil.test", 443, AuditEvent.DENIED, "evil.test is not in "
                        + "allowed_hosts", null, null),
                new AuditEvent(T.plusSeconds(75), "git", "github.com", 443, AuditEvent.ALLOWED, "fetch me/app: allowed by "
                        + "the rules", 0L, 0L),
                new AuditEvent(T.plusSeconds(80), "git", "github.com", 443, AuditEvent.DENIED, "push me/app refs/heads/main "
                        + "0000 -> 1111: refused: only refs/heads/claude/* may be pushed", 0L, 0L),
                new AuditEvent(T.plusSeconds(81), "git", "github.com", 443, AuditEvent.ALLOWED, "push me/app "
                        + "refs/heads/claude/x 0000 -> 2222: allowed by the rules", 0L, 0L),
                new AuditEvent(T.plusSeconds(100), "commits", null, null, "committed", "commit "
                        + "4b825dc642cb6eb9a060e54bf8d69288fbee4904 fix the parser", null, null),
                new AuditEvent(T.plusSeconds(150), "firewall", "10.0.0.9", 22, AuditEvent.DENIED, "dropped", null, null),
                new AuditEvent(T.plusSeconds(170), "files", null, null, "changed", "/workspace/src/app.js: sha256:"
                        + "9f86d081884c7d65, 120 bytes", null, null),
                new AuditEvent(T.plusSeconds(171), "cage", null, null, "exited", "cage fix exited with code 0", null, null));
    }

    @Test
    void aFixedTrailMakesTheGoldenPage() throws Exception {
        String page = AuditReportPage.html(fixedTrail(), new AuditChain(12, 0, null, "ab12"), "audit.jsonl");

        Golden.assertMatches(Path.of("src/test/resources/dev/claudecage/net/report-page.html"), page);
    }

    @Test
    void aBrokenChainIsTheFirstThingThePageSays() {
        String page = AuditReportPage.html(fixedTrail(), new AuditChain(12, 4, "its previousSha256 is not that of line 3",
                "ab12"), "audit.jsonl");

        assertTrue(page.contains("<section id=\"chain\" class=\"broken\"><h2>Chain check: BROKEN</h2><p>broken at line 4: "
                + "its previousSha256 is not that of line 3</p>"), page);
    }

    @Test
    void markupQuotesControlCharactersAndBidiOverridesFromTheCageAreShownAsText() {
        String hostile = "<script>alert(1)</script>\"'><img src=x onerror=alert(1)>&amp;\u001b[2J\u0007\r\u202eevil\u2066";
        List<AuditEvent> events = List.of(
                new AuditEvent(T, hostile, hostile, 443, hostile, hostile, 1L, 1L),
                new AuditEvent(T, "proxy", hostile, 443, AuditEvent.ALLOWED, hostile, 1L, 1L),
                new AuditEvent(T, "proxy", hostile, null, AuditEvent.DENIED, hostile, null, null),
                new AuditEvent(T, "git", hostile, 443, AuditEvent.ALLOWED, "push " + hostile, null, null),
                new AuditEvent(T, "gateway", hostile, 443, AuditEvent.DENIED, hostile, null, null),
                new AuditEvent(T, "files", hostile, null, "changed", hostile, null, null),
                new AuditEvent(T, "cage", hostile, null, hostile, hostile, null, null));

        String page = AuditReportPage.html(events, new AuditChain(7, 0, null, hostile), hostile);

        Matcher opening = Pattern.compile("<").matcher(page);
        while (opening.find()) {
            assertTrue(OWN_TAGS.matcher(page).region(opening.start(), page.length()).lookingAt(),
                    "markup the page did not write: " + page.substring(opening.start(), Math.min(page.length(), opening.start() + 40)));
        }
        assertTrue(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&gt;&lt;img src=x onerror=alert(1)&gt;"
                + "&amp;amp;\\x1b[2J\\x07\\r\\u202eevil\\u2066"), page);
        assertFalse(page.chars().anyMatch(c -> (c < 0x20 && c != '\n') || c == 0x7f || c == 0x202e || c == 0x2066),
                "a control character or bidi override reached the page");
        assertFalse(page.contains("class=\"<") || page.contains("class=\"&"), "a decision became a class name");
    }

    @Test
    void theTimelineCountsDecisionsPerMinuteAndALongTrailPerSeveral() {
        String page = AuditReportPage.html(fixedTrail(), new AuditChain(12, 0, null, "ab12"), "audit.jsonl");
        assertTrue(page.contains("<title>2026-12-07T10:00:00Z: 3 allowed, 0 refused or cut off</title>"), page);
        assertTrue(page.contains("<title>2026-12-07T10:01:00Z: 2 allowed, 2 refused or cut off</title>"), page);

        List<AuditEvent> day = List.of(new AuditEvent(T, "proxy", "a.test", 443, AuditEvent.ALLOWED, null, null, null),
                new AuditEvent(T.plusSeconds(24 * 3600), "proxy", "a.test", 443, AuditEvent.ALLOWED, null, null, null));
        String long_ = AuditReportPage.html(day, new AuditChain(2, 0, null, "ab12"), "audit.jsonl");
        assertTrue(long_.contains("Decisions per 13 minutes"), long_);
        assertEquals(2, Pattern.compile("<g class=\"bar\">").matcher(long_).results().count());
    }
}
