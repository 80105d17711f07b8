package dev.claudecage.net;

import dev.claudecage.config.AllowedHostEntry;
import dev.claudecage.host.UntrustedText;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Learn mode: from the denials of an audit log, the allowed_hosts entries that would have let them
 * through, and the destinations it will not propose, with why. It only proposes: the user reads
 * the list and pastes what they want; no policy changes by itself.
 * <p>
 * Every destination in the log is the cage's choice, so a suggestion must pass the same check as
 * an entry the user writes, names on the user's own network are never suggested, and whatever is
 * refused is shown escaped and cut short.
 *
 * @param suggested the entries to propose, most denied first
 * @param refused   the destinations not proposed, most denied first
 * @param wildcards wildcard entries that would cover three or more suggested names of one domain
 * @param denials   how many denials were read, of every kind
 */
public record AllowlistSuggestions(List<Suggestion> suggested, List<Refusal> refused, List<Wildcard> wildcards,
                                   long denials) {

    /** Names of one domain from which a wildcard is shown as an alternative. */
    static final int NAMES_FOR_A_WILDCARD = 3;
    /** Second-level labels under which a domain of two labels is a registry's, not somebody's (co.uk, com.au). */
    private static final Set<String> REGISTRY_LABELS = Set.of("ac", "co", "com", "edu", "gov", "net", "or", "org");
    private static final Pattern DOTTED_QUAD = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
    /** Names that only a local resolver answers: the user's own network, never the internet. */
    private static final List<String> LOCAL_SUFFIXES = List.of(".local", ".localhost", ".internal", ".lan",
            ".home.arpa", ".corp", ".intranet", ".localdomain");

    /**
     * An entry to propose.
     *
     * @param portKnown false when only DNS asked for the name, so the port is the default (443) by assumption
     */
    public record Suggestion(String entry, long count, Map<String, Long> bySource, Instant first, Instant last,
                             boolean portKnown) {
    }

    /** A destination not proposed: as the log had it (escaped, cut short), and why. */
    public record Refusal(String destination, long count, String why) {
    }

    /** A wildcard entry that would cover {@code names} (and every other name under its domain). */
    public record Wildcard(String entry, List<String> names) {
    }

    /** The suggestions for these audit events, oldest first as the log holds them. */
    public static AllowlistSuggestions from(List<AuditEvent> events) {
        Map<String, Tally> suggestions = new LinkedHashMap<>();
        Map<String, Tally> refusals = new LinkedHashMap<>();
        Map<String, String> refusalReasons = new LinkedHashMap<>();
        long denials = 0;
        for (AuditEvent event : events) {
            if (!AuditEvent.DENIED.equals(event.decision())) {
                continue;
            }
            denials++;
            Optional<Candidate> candidate = candidate(event);
            if (candidate.isEmpty()) {
                continue;
            }
            Candidate found = candidate.get();
            Optional<String> refusal = refusal(found);
            if (refusal.isPresent()) {
                String shown = UntrustedText.excerptLine(found.destination() + (found.portKnown() && found.port() != HostRule.DEFAULT_PORT
                        ? ":" + found.port() : ""));
                refusals.computeIfAbsent(shown, key -> new Tally()).add(event, found.portKnown());
                refusalReasons.putIfAbsent(shown, refusal.get());
            } else {
                suggestions.computeIfAbsent(entry(found), key -> new Tally()).add(event, found.portKnown());
            }
        }
        List<Suggestion> suggested = new ArrayList<>();
        suggestions.forEach((entry, tally) -> suggested.add(new Suggestion(entry, tally.count, tally.bySource,
                tally.first, tally.last, tally.portKnown)));
        suggested.sort(Comparator.comparingLong(Suggestion::count).reversed());
        List<Refusal> refused = new ArrayList<>();
        refusals.forEach((destination, tally) -> refused.add(new Refusal(destination, tally.count,
                refusalReasons.get(destination))));
        refused.sort(Comparator.comparingLong(Refusal::count).reversed());
        List<Wildcard> wildcards = new ArrayList<>();
        wildcards(suggested).forEach((domain, names) -> {
            String why = broadDomainProblem(domain);
            if (why == null) {
                wildcards.add(new Wildcard("*." + domain, List.copyOf(names)));
            } else {
                refused.add(new Refusal("*." + domain, names.size(), why));
            }
        });
        return new AllowlistSuggestions(suggested, refused, wildcards, denials);
    }

    /**
     * The suggestions as YAML to paste into claude-cage.yaml: the allowed_hosts entries, each with a comment
     * that counts its denials, then as comments the wildcards that would cover several names, and what is
     * not suggested with why. With nothing to suggest, comments only (an empty list pasted would clear the
     * user's own).
     *
     * @param from where the events came from, for the first line
     */
    public String yaml(String from) {
        StringBuilder out = new StringBuilder();
        out.append("# claude-cage policy suggest: ").append(denials).append(denials == 1 ? " denial" : " denials")
                .append(" in ").append(UntrustedText.excerptLine(from)).append('\n');
        if (suggested.isEmpty()) {
            out.append("# Nothing to suggest: no denial here is one that an allowed_hosts entry would let through.\n");
        } else {
            out.append("# Each entry would have let the denials counted beside it through. Nothing was changed:\n")
                    .append("# read them, then add what you want to allowed_hosts (claude-cage.yaml or --allowed-host).\n")
                    .append("allowed_hosts:\n");
            for (Suggestion suggestion : suggested) {
                out.append("  - ").append(suggestion.entry()).append("  # ").append(counted(suggestion.count(),
                        suggestion.bySource())).append(", ").append(suggestion.first());
                if (!suggestion.last().equals(suggestion.first())) {
                    out.append(" to ").append(suggestion.last());
                }
                if (!suggestion.portKnown()) {
                    out.append("; port ").append(HostRule.DEFAULT_PORT).append(" assumed: only DNS asked for it");
                }
                out.append('\n');
            }
        }
        if (!wildcards.isEmpty()) {
            out.append("# Or one wildcard for several names of a domain (it also allows every other name under it):\n");
            wildcards.forEach(wildcard -> out.append("#   - \"").append(wildcard.entry()).append("\"  # covers ")
                    .append(String.join(", ", wildcard.names())).append('\n'));
        }
        if (!refused.isEmpty()) {
            out.append("# Not suggested:\n");
            refused.forEach(refusal -> out.append("#   ").append(refusal.destination()).append("  ")
                    .append(refusal.count()).append(" denied: ").append(refusal.why()).append('\n'));
        }
        return out.toString();
    }

    private static String counted(long count, Map<String, Long> bySource) {
        StringBuilder text = new StringBuilder().append(count).append(" denied (");
        bySource.forEach((source, n) -> text.append(text.charAt(text.length() - 1) == '(' ? "" : ", ")
                .append(source).append(' ').append(n));
        return text.append(')').toString();
    }

    /**
     * A denied destination that an allowed_hosts entry might have let through.
     *
     * @param answeredPrivately the name is allowed, but resolves to a private or special-purpose address
     */
    private record Candidate(String destination, int port, boolean portKnown, boolean answeredPrivately) {
    }

    /**
     * The destination of a denial that allowed_hosts decided (the proxy's and the git gateway's "not in
     * allowed_hosts", the DNS stub's NXDOMAIN, a packet the firewall dropped); empty for denials that
     * an entry would not change (limits, malformed requests, the API's own hosts).
     */
    private static Optional<Candidate> candidate(AuditEvent event) {
        String destination = event.destination();
        String reason = event.reason() == null ? "" : event.reason();
        if (destination == null || destination.isEmpty()) {
            return Optional.empty();
        }
        if ("dns".equals(event.source())) {
            return reason.contains(EgressPolicy.NOT_ON_ALLOWLIST)
                    ? Optional.of(new Candidate(destination, HostRule.DEFAULT_PORT, false, false))
                    : Optional.empty();
        }
        if ("firewall".equals(event.source())) {
            return Optional.of(new Candidate(destination, event.port() == null ? 0 : event.port(), event.port() != null,
                    false));
        }
        boolean notAllowed = reason.contains(destination + EgressPolicy.NOT_ALLOWED)
                || reason.contains(destination + EgressPolicy.OTHER_PORTS_ONLY);
        boolean ipAddress = NameResolver.isIpLiteral(destination);
        boolean answeredPrivately = reason.startsWith(HostRule.normalize(destination) + NameResolver.RESOLVES_TO);
        if (!notAllowed && !ipAddress && !answeredPrivately) {
            return Optional.empty();
        }
        int port = event.port() != null ? event.port() : HostRule.DEFAULT_PORT;
        return Optional.of(new Candidate(destination, port, true, answeredPrivately));
    }

    /** Why this destination is not proposed, or empty when it is. */
    private static Optional<String> refusal(Candidate candidate) {
        String destination = candidate.destination();
        if (candidate.answeredPrivately()) {
            return Optional.of("resolves to an address on a private or special-purpose network: an allowed_hosts "
                    + "entry would not let it through; pin it with resolve only if you mean the cage to reach it");
        }
        if (NameResolver.isIpLiteral(destination)) {
            return Optional.of(ipAddressProblem(destination));
        }
        String name = HostRule.normalize(destination);
        String entryProblem = AllowedHostEntry.problem(entry(candidate));
        if (entryProblem != null) {
            return Optional.of("it " + entryProblem);
        }
        if (!name.contains(".") || LOCAL_SUFFIXES.stream().anyMatch(name::endsWith)) {
            return Optional.of("a name only your own network's resolver answers: the cage would reach your "
                    + "network's hosts");
        }
        return Optional.empty();
    }

    private static String ipAddressProblem(String destination) {
        String reason = "an IP address: allowed_hosts takes host names; find the name of the service you need";
        String literal = destination.replaceAll("^\\[|]$", "");
        if (!literal.contains(":") && !DOTTED_QUAD.matcher(literal).matches()) {
            // A shorthand form (10.1, 0x7f.1): getByName would ask a resolver for it.
            return reason;
        }
        try {
            // Only literals get here: parsing them asks no resolver.
            InetAddress address = InetAddress.getByName(literal);
            return NameResolver.restrictedRange(address).map(range -> range + ", not a host of the internet: "
                    + "the cage may not reach such addresses").orElse(reason);
        } catch (UnknownHostException | SecurityException notAnAddress) {
            return reason;
        }
    }

    private static String entry(Candidate candidate) {
        String name = HostRule.normalize(candidate.destination());
        return candidate.port() == HostRule.DEFAULT_PORT ? name : name + ":" + candidate.port();
    }

    /** The domains with {@value #NAMES_FOR_A_WILDCARD} or more suggested names right below them. */
    private static Map<String, Set<String>> wildcards(List<Suggestion> suggested) {
        Map<String, Set<String>> byDomain = new TreeMap<>();
        for (Suggestion suggestion : suggested) {
            String name = HostRule.parse(suggestion.entry()).pattern();
            int dot = name.indexOf('.');
            byDomain.computeIfAbsent(name.substring(dot + 1), key -> new TreeSet<>()).add(suggestion.entry());
        }
        byDomain.values().removeIf(names -> names.size() < NAMES_FOR_A_WILDCARD);
        return byDomain;
    }

    /** Why a wildcard over this domain is too broad to propose, or null. */
    private static String broadDomainProblem(String domain) {
        String[] labels = domain.split("\\.");
        if (labels.length < 2) {
            return "overly broad: it would cover a whole top-level domain";
        }
        if (labels.length == 2 && REGISTRY_LABELS.contains(labels[0].toLowerCase(Locale.ROOT))) {
            return "overly broad: " + domain + " is a registry's domain, under which anybody registers names";
        }
        return null;
    }

    /** Counts of one destination's denials. */
    private static final class Tally {
        long count;
        final Map<String, Long> bySource = new TreeMap<>();
        Instant first;
        Instant last;
        boolean portKnown;

        void add(AuditEvent event, boolean knownPort) {
            count++;
            bySource.merge(event.source(), 1L, Long::sum);
            if (event.time() != null) {
                first = first == null || event.time().isBefore(first) ? event.time() : first;
                last = last == null || event.time().isAfter(last) ? event.time() : last;
            }
            portKnown |= knownPort;
        }
    }
}
