package dev.claudecage.image.registry;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One challenge of a {@code WWW-Authenticate} header (RFC 7235): a scheme and its parameters,
 * e.g. {@code Bearer realm="https://auth.docker.io/token",service="registry.docker.io"}. The
 * scheme is lower-cased, as are parameter names; values keep their case, quotes and escapes
 * removed.
 */
public record AuthChallenge(String scheme, Map<String, String> parameters) {

    public AuthChallenge {
        parameters = Map.copyOf(parameters);
    }

    public Optional<String> parameter(String name) {
        return Optional.ofNullable(parameters.get(name));
    }

    /** Every challenge in the header values, in order; text that is not a challenge is skipped. */
    public static List<AuthChallenge> parse(List<String> headerValues) {
        List<AuthChallenge> challenges = new ArrayList<>();
        for (String value : headerValues) {
            new Reader(value).readAll(challenges);
        }
        return challenges;
    }

    /** The challenge with this scheme, if any. */
    public static Optional<AuthChallenge> find(List<AuthChallenge> challenges, String scheme) {
        return challenges.stream().filter(challenge -> challenge.scheme().equals(scheme)).findFirst();
    }

    /** A cursor over one header value. */
    private static final class Reader {
        private final String text;
        private int position;

        Reader(String text) {
            this.text = text;
        }

        void readAll(List<AuthChallenge> into) {
            String scheme = token();
            while (scheme != null) {
                Map<String, String> parameters = new LinkedHashMap<>();
                String next = null;
                while (true) {
                    skipSpacesAndCommas();
                    int start = position;
                    String name = token();
                    if (name == null) {
                        break;
                    }
                    skipSpaces();
                    if (!peek('=')) {
                        // A bare token after a challenge's parameters starts the next challenge.
                        next = name;
                        break;
                    }
                    position++;
                    skipSpaces();
                    String value = peek('"') ? quoted() : token();
                    if (value == null) {
                        position = start;
                        break;
                    }
                    parameters.put(name.toLowerCase(Locale.ROOT), value);
                }
                into.add(new AuthChallenge(scheme.toLowerCase(Locale.ROOT), parameters));
                scheme = next;
            }
        }

        private boolean peek(char c) {
            return position < text.length() && text.charAt(position) == c;
        }

        private void skipSpaces() {
            while (position < text.length() && (text.charAt(position) == ' ' || text.charAt(position) == '\t')) {
                position++;
            }
        }

        private void skipSpacesAndCommas() {
            while (position < text.length() && " \t,".indexOf(text.charAt(position)) >= 0) {
                position++;
            }
        }

        /**
         * An RFC 7230 token, or null; ':' and '/' count too, so that an unquoted URL or scope
         * (realm=https://auth.example/token, which some registries send) reads whole.
         */
        private String token() {
            skipSpaces();
            int start = position;
            while (position < text.length() && isTokenChar(text.charAt(position))) {
                position++;
            }
            return position > start ? text.substring(start, position) : null;
        }

        private static boolean isTokenChar(char c) {
            boolean visibleAscii = c > ' ' && c < 127;
            return visibleAscii && "\"(),;<=>?@[\\]{}".indexOf(c) < 0;
        }

        private String quoted() {
            StringBuilder value = new StringBuilder();
            position++;
            while (position < text.length()) {
                char c = text.charAt(position++);
                if (c == '"') {
                    return value.toString();
                }
                if (c == '\\' && position < text.length()) {
                    c = text.charAt(position++);
                }
                value.append(c);
            }
            return value.toString();
        }
    }
}
