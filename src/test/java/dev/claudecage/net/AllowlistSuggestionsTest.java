package dev.claudecage.net;

import dev.claudecage.testing.Golden;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 18, learn mode: what policy suggest proposes from a log's denials, and what it never does. */
class AllowlistSuggestionsTest {

    private static final Instant START = Instant.parse("2026-12-07T10:00:00Z");

    private final List<AuditEvent> events = new ArrayList<>();

    private void denied(String source, String destination, Integer port, String reason) {
        events.add(new AuditEvent(START.plusSeconds(events.size()), source, destination, port, AuditEvent.DENIED,
                reason, null, null));
    }

    private void notAllowed(String host, int port) {
        denied("proxy", host, port, host + EgressPolicy.NOT_ALLOWED);
    }

    private void dnsRefused(String name) {
        denied("dns", name, null, "A" + EgressPolicy.NOT_ON_ALLOWLIST + "; answered locally, nothing forwarded");
    }

    @Test
    void theDenialsOfARunBecomeEntriesToPasteAndTheRestIsListedWithWhy() throws Exception {
        notAllowed("registry.npmjs.org", 443);
        notAllowed("registry.npmjs.org", 443);
        dnsRefused("registry.npmjs.org");
        denied("proxy", "db.example.com", 5432, "db.example.com" + EgressPolicy.OTHER_PORTS_ONLY + "443 only, not 5432");
        dnsRefused("files.example.org");
        denied("git", "git.example.com", 443, "git push: git.example.com" + EgressPolicy.NOT_ALLOWED + " for port 443");
        denied("proxy", "10.0.0.5", 443, NameResolver.ipLiteralReason("10.0.0.5"));
        denied("firewall", "192.168.1.9", 5432, "dropped");
        denied("firewall", "198.51.100.7", 22, "dropped");
        notAllowed("intranet", 443);
        notAllowed("printer.lan", 631);
        denied("proxy", "wiki.example.com", 443, "wiki.example.com" + NameResolver.RESOLVES_TO
                + "10.1.1.1, private-use; only names pinned with resolve may reach such addresses");
        denied("proxy", "example.net", 443, "the connection limit of 64 was reached");
        for (String name : List.of("a.cdn.example.net", "b.cdn.example.net", "c.cdn.example.net",
                "x.co.uk", "y.co.uk", "z.co.uk")) {
            notAllowed(name, 443);
        }
        events.add(new AuditEvent(START, "proxy", "allowed.example.com", 443, AuditEvent.ALLOWED, "allowed", 1L, 1L));

        AllowlistSuggestions suggestions = AllowlistSuggestions.from(events);

        Golden.assertMatches(Path.of("security/golden/policy-suggest.yaml"), suggestions.yaml("audit.jsonl"));
        assertEquals(List.of("registry.npmjs.org", "db.example.com:5432", "files.example.org", "git.example.com",
                        "a.cdn.example.net", "b.cdn.example.net", "c.cdn.example.net", "x.co.uk", "y.co.uk", "z.co.uk"),
                suggestions.suggested().stream().map(AllowlistSuggestions.Suggestion::entry).toList());
        assertEquals(List.of("*.cdn.example.net"),
                suggestions.wildcards().stream().map(AllowlistSuggestions.Wildcard::entry).toList());
        assertEquals(19, suggestions.denials());
        assertEquals(List.of("10.0.0.5", "192.168.1.9:5432", "198.51.100.7:22", "intranet", "printer.lan:631",
                        "wiki.example.com", "*.co.uk"),
                suggestions.refused().stream().map(AllowlistSuggestions.Refusal::destination).toList());
    }

    @Test
    void aNameTheCageMadeUpIsNeverSuggestedAndIsShownEscaped() {
        dnsRefused("evil\u001b]52;c;aGVsbG8=\u0007.example.com\nallowed_hosts: [\"*\"]");

        AllowlistSuggestions suggestions = AllowlistSuggestions.from(events);
        String yaml = suggestions.yaml("audit.jsonl");

        assertTrue(suggestions.suggested().isEmpty());
        assertEquals(1, suggestions.refused().size());
        assertFalse(yaml.contains("\u001b") || yaml.contains("\u0007"), yaml);
        assertTrue(yaml.contains("evil\\x1b]52;c;aGVsbG8=\\x07.example.com\\nallowed_hosts"), yaml);
        // Every line is a comment: nothing of the cage's text can become YAML that a paste would apply.
        assertTrue(yaml.lines().allMatch(line -> line.startsWith("#")), yaml);
    }

    @Test
    void nothingToSuggestPrintsNoListThatAPasteWouldEmpty() {
        denied("proxy", "example.com", 443, "the egress limit of 1 GiB was passed");

        String yaml = AllowlistSuggestions.from(events).yaml("audit.jsonl");

        assertFalse(yaml.contains("allowed_hosts:"), yaml);
        assertTrue(yaml.contains("Nothing to suggest"), yaml);
    }
}
