package dev.claudecage.net;

import dev.claudecage.config.CageConfig;
import dev.claudecage.config.EgressSettings;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What a filtered cage may reach, in one place: allowed names and ports, names pinned to
 * addresses, the names reached only through the API gateway, and the per-cage limits. Everything
 * not allowed here is denied.
 *
 * @param apiHosts names the cage may reach only through the API gateway, on no port and by no route of the
 *                 proxy, whatever allowed_hosts says: the API's hosts, while the gateway holds the user's key
 *                 (otherwise an agent could send the workspace there with a key of its own)
 * @param wildcardNamesPerMinute how many names not looked up before the proxy may look up in a minute when
 *                 only a wildcard entry allows them (each lookup carries the name to the zone's servers)
 */
public record EgressPolicy(List<HostRule> rules, Map<String, List<InetAddress>> pinned, long egressLimitBytes,
                           int maxConnections, Set<String> apiHosts, int wildcardNamesPerMinute) {

    /** How a denial for a name that allowed_hosts lacks reads, after the name: what policy suggest looks for. */
    public static final String NOT_ALLOWED = " is not in allowed_hosts";
    /** How the DNS stub's refusal of a name allowed_hosts lacks reads, after the query type. */
    public static final String NOT_ON_ALLOWLIST = " NXDOMAIN: not on the allowlist";
    /** How a denial for a name allowed on other ports only reads, after the name. */
    public static final String OTHER_PORTS_ONLY = " is in allowed_hosts for port ";

    /** Anthropic's own API: the default api_upstream, and where a cage holding another key would send it. */
    public static final URI ANTHROPIC_API = URI.create("https://api.anthropic.com");

    public EgressPolicy {
        rules = List.copyOf(rules);
        Map<String, List<InetAddress>> copy = new LinkedHashMap<>();
        pinned.forEach((name, addresses) -> copy.put(HostRule.normalize(name), List.copyOf(addresses)));
        pinned = Collections.unmodifiableMap(copy);
        Set<String> names = new LinkedHashSet<>();
        apiHosts.forEach(name -> names.add(HostRule.normalize(name)));
        apiHosts = Collections.unmodifiableSet(names);
    }

    /** With the default budget for names under wildcard entries. */
    public EgressPolicy(List<HostRule> rules, Map<String, List<InetAddress>> pinned, long egressLimitBytes,
                        int maxConnections, Set<String> apiHosts) {
        this(rules, pinned, egressLimitBytes, maxConnections, apiHosts, EgressSettings.DEFAULT_WILDCARD_NAMES_PER_MINUTE);
    }

    /** A policy with no name reserved for the API gateway. */
    public EgressPolicy(List<HostRule> rules, Map<String, List<InetAddress>> pinned, long egressLimitBytes,
                        int maxConnections) {
        this(rules, pinned, egressLimitBytes, maxConnections, Set.of());
    }

    /** @param apiGatewayHoldsKey whether the API gateway runs with the user's key, which reserves the API's hosts */
    public static EgressPolicy from(CageConfig config, boolean apiGatewayHoldsKey) {
        Map<String, List<InetAddress>> pinned = new LinkedHashMap<>();
        config.egress().resolve().forEach((name, addresses) -> pinned.put(name, addresses.stream()
                .map(EgressPolicy::literal).toList()));
        return new EgressPolicy(config.allowedHosts().stream().map(HostRule::parse).toList(), pinned,
                config.egress().egressLimitBytes(), config.egress().maxConnections(),
                apiGatewayHoldsKey ? apiHostNames(config) : Set.of(), config.egress().wildcardNamesPerMinute());
    }

    /**
     * The names that lead to the API, by name: the host of api_upstream, where the gateway sends the user's
     * key, and Anthropic's own API host, which a cage that holds another key would use whatever api_upstream
     * says. An api_upstream given as an IP address adds nothing: the proxy refuses every IP address anyway.
     */
    public static Set<String> apiHostNames(CageConfig config) {
        Set<String> names = new LinkedHashSet<>();
        String upstream = config.egress().apiUpstream().getHost();
        if (!NameResolver.isIpLiteral(upstream)) {
            names.add(HostRule.normalize(upstream));
        }
        names.add(ANTHROPIC_API.getHost());
        return Collections.unmodifiableSet(names);
    }

    public boolean allows(String host, int port) {
        return apiHostReason(host).isEmpty() && rules.stream().anyMatch(rule -> rule.matches(host, port));
    }

    /**
     * The wildcard entry that alone allows this name on this port, when the proxy would look the name up
     * only because of it: empty when an exact entry allows it, when it is pinned, or when nothing allows it.
     */
    public Optional<HostRule> onlyThroughWildcard(String host, int port) {
        if (pinnedAddresses(host).isPresent()) {
            return Optional.empty();
        }
        List<HostRule> matching = rules.stream().filter(rule -> rule.matches(host, port)).toList();
        return matching.stream().anyMatch(rule -> !rule.isWildcard()) ? Optional.empty() : matching.stream().findFirst();
    }

    /** Whether any port of this name is allowed. */
    public boolean allowsName(String host) {
        return apiHostReason(host).isEmpty() && rules.stream().anyMatch(rule -> rule.matchesName(host));
    }

    /** Why the proxy refuses this name on every port, when it is one the API gateway holds the user's key for. */
    public Optional<String> apiHostReason(String host) {
        String name = HostRule.normalize(host);
        return apiHosts.contains(name)
                ? Optional.of("the API gateway holds your key: " + name + " only through it") : Optional.empty();
    }

    /** The addresses the policy pins this name to, if it does. */
    public Optional<List<InetAddress>> pinnedAddresses(String host) {
        return Optional.ofNullable(pinned.get(HostRule.normalize(host)));
    }

    /** Config values are validated IP literals, so this never touches DNS. */
    static InetAddress literal(String address) {
        try {
            return InetAddress.getByName(address);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP literal: " + address, e);
        }
    }
}
