package dev.claudecage.net.proxy;

import dev.claudecage.net.EgressPolicy;
import dev.claudecage.net.HostRule;
import dev.claudecage.net.NameResolver;

import java.net.InetAddress;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The one place the proxy decides whether a destination may be reached: the name must be a real
 * host name, not one reached only through the API gateway, allowed on that port by the policy,
 * within the budget for names under wildcard entries ({@link WildcardBudget}), and resolve to
 * addresses the resolver accepts (so a pin never reopens an API host).
 * The order matters for the audit log: each denial names the first rule it broke.
 */
final class Gatekeeper {

    sealed interface Verdict permits Allowed, Denied, Unresolvable {
    }

    record Allowed(List<InetAddress> addresses) implements Verdict {
    }

    record Denied(String reason) implements Verdict {
    }

    /** The policy allows the name, but it has no address: nothing was sent anywhere. */
    record Unresolvable(String reason) implements Verdict {
    }

    private final EgressPolicy policy;
    private final NameResolver resolver;
    private final WildcardBudget wildcards;

    Gatekeeper(EgressPolicy policy, NameResolver resolver, WildcardBudget wildcards) {
        this.policy = policy;
        this.resolver = resolver;
        this.wildcards = wildcards;
    }

    Verdict decide(String host, int port) {
        if (NameResolver.isIpLiteral(host)) {
            return new Denied(NameResolver.ipLiteralReason(host));
        }
        if (!NameResolver.isValidHostName(host)) {
            return new Denied("'" + host + "' is not a valid host name");
        }
        Optional<String> apiHost = policy.apiHostReason(host);
        if (apiHost.isPresent()) {
            return new Denied(apiHost.get());
        }
        if (!policy.allows(host, port)) {
            return new Denied(notAllowedReason(host, port));
        }
        String name = HostRule.normalize(host);
        Optional<String> overBudget = policy.onlyThroughWildcard(name, port)
                .flatMap(wildcard -> wildcards.refusal(name, wildcard));
        if (overBudget.isPresent()) {
            return new Denied(overBudget.get());
        }
        NameResolver.Resolution resolution = resolver.resolve(host);
        if (resolution instanceof NameResolver.Resolved resolved) {
            return new Allowed(resolved.addresses());
        }
        if (resolution instanceof NameResolver.Refused refused) {
            return new Denied(refused.reason());
        }
        return new Unresolvable(((NameResolver.Failed) resolution).reason());
    }

    private String notAllowedReason(String host, int port) {
        String ports = policy.rules().stream().filter(rule -> rule.matchesName(host)).map(HostRule::port)
                .distinct().sorted().map(String::valueOf).collect(Collectors.joining(", "));
        return ports.isEmpty() ? host + EgressPolicy.NOT_ALLOWED
                : host + EgressPolicy.OTHER_PORTS_ONLY + ports + " only, not " + port;
    }
}
