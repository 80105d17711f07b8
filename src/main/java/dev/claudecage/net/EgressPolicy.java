package dev.claudecage.net;

import dev.claudecage.config.CageConfig;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a filtered cage may reach, in one place: allowed names and ports, names pinned to
 * addresses, and the per-cage limits. Everything not allowed here is denied.
 */
public record EgressPolicy(List<HostRule> rules, Map<String, List<InetAddress>> pinned, long egressLimitBytes,
                           int maxConnections) {

    public EgressPolicy {
        rules = List.copyOf(rules);
        Map<String, List<InetAddress>> copy = new LinkedHashMap<>();
        pinned.forEach((name, addresses) -> copy.put(HostRule.normalize(name), List.copyOf(addresses)));
        pinned = java.util.Collections.unmodifiableMap(copy);
    }

    public static EgressPolicy from(CageConfig config) {
        Map<String, List<InetAddress>> pinned = new LinkedHashMap<>();
        config.egress().resolve().forEach((name, addresses) -> pinned.put(name, addresses.stream()
                .map(EgressPolicy::literal).toList()));
        return new EgressPolicy(config.allowedHosts().stream().map(HostRule::parse).toList(), pinned,
                config.egress().egressLimitBytes(), config.egress().maxConnections());
    }

    public boolean allows(String host, int port) {
        return rules.stream().anyMatch(rule -> rule.matches(host, port));
    }

    /** Whether any port of this name is allowed: what the DNS stub answers for. */
    public boolean allowsName(String host) {
        return rules.stream().anyMatch(rule -> rule.matchesName(host));
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
