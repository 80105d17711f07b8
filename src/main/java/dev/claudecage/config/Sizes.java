package dev.claudecage.config;

import java.util.Locale;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Byte sizes as written in the configuration: a whole number with a binary unit, 4g = 4 GiB. */
public final class Sizes {

    private static final String UNITS = "bkmgt";
    // "4", "4b", "4g" and "4gb" are all fine; the trailing b only repeats what the unit says.
    private static final Pattern SIZE = Pattern.compile("([0-9]+)(?:([kmgt])b?|b)?");

    private Sizes() {
    }

    /** The number of bytes, or empty when the text is not a size or does not fit in a long. */
    public static OptionalLong parse(String text) {
        Matcher matcher = SIZE.matcher(text.strip().toLowerCase(Locale.ROOT));
        if (!matcher.matches()) {
            return OptionalLong.empty();
        }
        String unit = matcher.group(2) == null ? "b" : matcher.group(2);
        try {
            long number = Long.parseLong(matcher.group(1));
            return OptionalLong.of(Math.multiplyExact(number, 1L << (10 * UNITS.indexOf(unit))));
        } catch (NumberFormatException | ArithmeticException tooLarge) {
            return OptionalLong.empty();
        }
    }

    /** The largest unit that keeps the number whole: 4294967296 is "4g", 1536 is "1536b". */
    public static String format(long bytes) {
        int unit = 0;
        while (unit < UNITS.length() - 1 && bytes != 0 && bytes % 1024 == 0) {
            bytes /= 1024;
            unit++;
        }
        return bytes + String.valueOf(UNITS.charAt(unit));
    }
}
