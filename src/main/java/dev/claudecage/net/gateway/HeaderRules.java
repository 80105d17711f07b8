package dev.claudecage.net.gateway;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** Which headers cross the gateway, each way. Names compare in lower case. */
final class HeaderRules {

    /** Hop-by-hop headers (RFC 9110 section 7.6.1), never forwarded either way. */
    static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-connection", "proxy-authenticate",
            "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade");

    /**
     * Request headers the gateway drops besides the hop-by-hop ones: the credentials (the gateway sets
     * its own), Host (the upstream's), framing and expectations (the HTTP client sets its own), and the
     * cage's Accept-Encoding (the gateway asks for identity, so that it can redact the body).
     */
    static final Set<String> REQUEST_DROPPED = Set.of("host", "content-length", "expect", "x-api-key", "authorization",
            "accept-encoding");

    /** Response headers the gateway drops besides the hop-by-hop ones: framing is the server's. */
    static final Set<String> RESPONSE_DROPPED = Set.of("content-length", "date");

    /** The beta flag the API asks of a request authorized by a subscription login's OAuth token. */
    static final String OAUTH_BETA = "oauth-2025-04-20";

    private HeaderRules() {
    }

    /** The cage's anthropic-beta values as one, with {@link #OAUTH_BETA} added when the cage left it out. */
    static String withOAuthBeta(List<String> values) {
        List<String> flags = new ArrayList<>();
        for (String value : values) {
            for (String flag : value.split(",")) {
                if (!flag.isBlank()) {
                    flags.add(flag.strip());
                }
            }
        }
        if (!flags.contains(OAUTH_BETA)) {
            flags.add(OAUTH_BETA);
        }
        return String.join(",", flags);
    }

    /** The names a {@code Connection} header lists: they are hop-by-hop for this message too. */
    static Set<String> connectionTokens(List<String> connectionValues) {
        Set<String> tokens = new HashSet<>();
        if (connectionValues != null) {
            for (String value : connectionValues) {
                for (String token : value.split(",")) {
                    tokens.add(token.trim().toLowerCase(Locale.ROOT));
                }
            }
        }
        return tokens;
    }

    static boolean forwardRequestHeader(String name, Set<String> connectionTokens) {
        String lower = name.toLowerCase(Locale.ROOT);
        return !HOP_BY_HOP.contains(lower) && !REQUEST_DROPPED.contains(lower) && !connectionTokens.contains(lower);
    }

    static boolean forwardResponseHeader(String name, Set<String> connectionTokens) {
        String lower = name.toLowerCase(Locale.ROOT);
        // HTTP/2 pseudo-headers (":status") are not headers of the HTTP/1.1 response the cage gets.
        return !lower.startsWith(":") && !HOP_BY_HOP.contains(lower) && !RESPONSE_DROPPED.contains(lower)
                && !connectionTokens.contains(lower);
    }
}
