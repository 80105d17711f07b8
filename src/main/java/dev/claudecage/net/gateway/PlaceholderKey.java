package dev.claudecage.net.gateway;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * The stand-in API key a cage holds instead of the user's real key: {@code sk-ant-cage-} and 32
 * random URL-safe characters (192 bits), new for each session. It is no secret from the cage
 * (it sits in the cage's environment); the gateway accepts it and nothing else, and swaps it for
 * the real key on the way out. Its shape tells anyone who finds it that it is worthless elsewhere.
 */
public record PlaceholderKey(String value) {

    public static final String PREFIX = "sk-ant-cage-";
    private static final int RANDOM_BYTES = 24;
    private static final Pattern FORMAT = Pattern.compile(Pattern.quote(PREFIX) + "[A-Za-z0-9_-]{32}");
    private static final SecureRandom RANDOM = new SecureRandom();

    public PlaceholderKey {
        if (value == null || !FORMAT.matcher(value).matches()) {
            throw new IllegalArgumentException("not a claude-cage placeholder key: expected " + PREFIX
                    + " followed by 32 URL-safe characters (A-Z, a-z, 0-9, '-', '_')");
        }
    }

    /** A fresh placeholder from the system's secure random source. */
    public static PlaceholderKey generate() {
        byte[] bytes = new byte[RANDOM_BYTES];
        RANDOM.nextBytes(bytes);
        return new PlaceholderKey(PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes));
    }

    @Override
    public String toString() {
        return value;
    }
}
