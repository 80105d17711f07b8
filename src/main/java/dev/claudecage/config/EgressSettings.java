package dev.claudecage.config;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The settings of filtered networking beyond the allowlist.
 *
 * @param resolve      host names pinned to addresses (like curl's --resolve), in the order given;
 *                     the proxy uses them instead of DNS, and treats them as listed by the policy
 * @param apiUpstream  where the API gateway forwards the cage's Anthropic API calls
 * @param networkPool  the IPv4 prefix from which each cage's link to the host gets its addresses
 * @param networkPool6 the IPv6 (ULA) prefix for the same
 * @param credentials  git tokens and the SSH agent, used through the gateways without entering the cage
 * @param auditLogLimitBytes     the most bytes the cage's audit log file may hold; past them, events are only counted
 * @param wildcardNamesPerMinute new names under wildcard entries the proxy may look up in a minute
 */
public record EgressSettings(Map<String, List<String>> resolve, long egressLimitBytes, int maxConnections,
                             URI apiUpstream, String networkPool, String networkPool6, CredentialSettings credentials,
                             long auditLogLimitBytes, int wildcardNamesPerMinute, String externalGateway) {

    public static final long DEFAULT_AUDIT_LOG_LIMIT = 100L << 20;
    public static final int DEFAULT_WILDCARD_NAMES_PER_MINUTE = 60;

    public EgressSettings {
        Map<String, List<String>> copy = new LinkedHashMap<>();
        resolve.forEach((name, addresses) -> copy.put(name, List.copyOf(addresses)));
        resolve = java.util.Collections.unmodifiableMap(copy);
        java.util.Objects.requireNonNull(credentials, "credentials");
    }

    /** With no external gateway: the cage's services run beside it, on its link's host end. */
    public EgressSettings(Map<String, List<String>> resolve, long egressLimitBytes, int maxConnections,
                          URI apiUpstream, String networkPool, String networkPool6, CredentialSettings credentials,
                          long auditLogLimitBytes, int wildcardNamesPerMinute) {
        this(resolve, egressLimitBytes, maxConnections, apiUpstream, networkPool, networkPool6, credentials,
                auditLogLimitBytes, wildcardNamesPerMinute, null);
    }

    public EgressSettings withResolve(Map<String, List<String>> newResolve) {
        return new EgressSettings(newResolve, egressLimitBytes, maxConnections, apiUpstream, networkPool, networkPool6,
                credentials, auditLogLimitBytes, wildcardNamesPerMinute, externalGateway);
    }

    /** Whether the cage's proxy, DNS stub and gateways run elsewhere ({@code network: gateway:ADDRESS}). */
    public boolean hasExternalGateway() {
        return externalGateway != null;
    }

    /** Without credentials (no git tokens, no SSH agent), with the default audit log cap and wildcard budget. */
    public EgressSettings(Map<String, List<String>> resolve, long egressLimitBytes, int maxConnections,
                          URI apiUpstream, String networkPool, String networkPool6) {
        this(resolve, egressLimitBytes, maxConnections, apiUpstream, networkPool, networkPool6, CredentialSettings.none(),
                DEFAULT_AUDIT_LOG_LIMIT, DEFAULT_WILDCARD_NAMES_PER_MINUTE);
    }
}
