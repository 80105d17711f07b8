package dev.claudecage.image.dockerfile;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations written as Go's {@code time.ParseDuration} reads them, which is how Docker reads
 * HEALTHCHECK's flags: a sign, then numbers with units ({@code 1h30m}, {@code 1.5s},
 * {@code 300ms}; units ns, us, µs, ms, s, m, h); a bare {@code 0} is zero.
 */
public final class GoDuration {

    private static final Pattern PART = Pattern.compile("([0-9]*(?:\\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)");
    private static final Map<String, Long> NANOS = Map.of("ns", 1L, "us", 1_000L, "µs", 1_000L, "μs", 1_000L,
            "ms", 1_000_000L, "s", 1_000_000_000L, "m", 60_000_000_000L, "h", 3_600_000_000_000L);

    private GoDuration() {
    }

    public static Duration parse(String text) {
        String rest = text;
        boolean negative = false;
        if (rest.startsWith("-") || rest.startsWith("+")) {
            negative = rest.startsWith("-");
            rest = rest.substring(1);
        }
        if (rest.equals("0")) {
            return Duration.ZERO;
        }
        if (rest.isEmpty()) {
            throw new IllegalArgumentException("'" + text + "' is not a duration like 30s, 1m30s or 500ms");
        }
        BigDecimal nanos = BigDecimal.ZERO;
        Matcher part = PART.matcher(rest);
        int position = 0;
        while (position < rest.length()) {
            if (!part.find(position) || part.start() != position || part.group(1).isEmpty() || part.group(1).equals(".")) {
                throw new IllegalArgumentException("'" + text + "' is not a duration like 30s, 1m30s or 500ms");
            }
            nanos = nanos.add(new BigDecimal(part.group(1)).multiply(BigDecimal.valueOf(NANOS.get(part.group(2)))));
            position = part.end();
        }
        long whole = nanos.longValue();
        return Duration.ofNanos(negative ? -whole : whole);
    }
}
