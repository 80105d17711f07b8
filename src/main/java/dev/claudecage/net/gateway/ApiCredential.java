package dev.claudecage.net.gateway;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * The user's credential that the API gateway adds to the cage's requests, which never enters the
 * cage: an Anthropic API key, sent upstream in {@code x-api-key}, or the OAuth token of a Claude
 * subscription login, sent as {@code Authorization: Bearer}. The cage holds the gateway's
 * placeholder in the variable Claude Code reads for that kind.
 *
 * @param secret hands out the credential, a fresh array per call, which the caller wipes after use; it may
 *               throw a {@link dev.claudecage.CageException} whose message says why there is none now
 *               (an expired login), which the gateway passes on to the cage
 * @param source where it comes from, for messages (never the secret itself)
 */
public record ApiCredential(Kind kind, Supplier<char[]> secret, String source) {

    public enum Kind {
        API_KEY("ANTHROPIC_API_KEY"),
        OAUTH_TOKEN("CLAUDE_CODE_OAUTH_TOKEN");

        private final String cageVariable;

        Kind(String cageVariable) {
            this.cageVariable = cageVariable;
        }

        /** The variable that carries the placeholder in the cage: the one Claude Code reads for this kind. */
        public String cageVariable() {
            return cageVariable;
        }
    }

    public ApiCredential {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(secret, "secret");
        Objects.requireNonNull(source, "source");
    }

    public static ApiCredential apiKey(Supplier<char[]> secret, String source) {
        return new ApiCredential(Kind.API_KEY, secret, source);
    }

    public static ApiCredential oauthToken(Supplier<char[]> secret, String source) {
        return new ApiCredential(Kind.OAUTH_TOKEN, secret, source);
    }
}
