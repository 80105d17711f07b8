package dev.claudecage.image.dockerfile;

import java.util.regex.Pattern;

/**
 * A path pattern as Docker matches them, on '/'-separated paths relative to the build context:
 * {@code *} any run of characters but '/', {@code ?} one character but '/', {@code [a-z]} and
 * {@code [^a-z]} classes, {@code \} escaping the next character. In .dockerignore files,
 * {@code **} also matches any number of directories.
 */
public final class PathPattern {

    private final String source;
    private final Pattern regex;

    private PathPattern(String source, Pattern regex) {
        this.source = source;
        this.regex = regex;
    }

    /** A COPY source pattern (Go's filepath.Match). */
    public static PathPattern glob(String pattern) {
        return new PathPattern(pattern, Pattern.compile(toRegex(pattern, false)));
    }

    /** A .dockerignore pattern, with {@code **}. */
    public static PathPattern ignore(String pattern) {
        return new PathPattern(pattern, Pattern.compile(toRegex(pattern, true)));
    }

    /** Whether the pattern has wildcards at all; a literal one names one path. */
    public static boolean hasWildcards(String pattern) {
        return pattern.chars().anyMatch(c -> c == '*' || c == '?' || c == '[');
    }

    public boolean matches(String path) {
        return regex.matcher(path).matches();
    }

    @Override
    public String toString() {
        return source;
    }

    private static String toRegex(String pattern, boolean doubleStar) {
        StringBuilder regex = new StringBuilder();
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            switch (c) {
                case '*' -> {
                    if (doubleStar && i + 1 < pattern.length() && pattern.charAt(i + 1) == '*') {
                        while (i + 1 < pattern.length() && pattern.charAt(i + 1) == '*') {
                            i++;
                        }
                        if (i + 1 == pattern.length()) {
                            regex.append(".*");
                        } else {
                            // "**/" is "**": any number of directories, even none.
                            if (pattern.charAt(i + 1) == '/') {
                                i++;
                            }
                            regex.append("(.*/)?");
                        }
                    } else {
                        regex.append("[^/]*");
                    }
                }
                case '?' -> regex.append("[^/]");
                case '\\' -> {
                    if (i + 1 < pattern.length()) {
                        regex.append(Pattern.quote(String.valueOf(pattern.charAt(++i))));
                    } else {
                        regex.append("\\\\");
                    }
                }
                case '[' -> {
                    int end = pattern.indexOf(']', i + 2);
                    if (end < 0) {
                        throw new IllegalArgumentException("'" + pattern + "' has a '[' without its closing ']'");
                    }
                    String body = pattern.substring(i + 1, end);
                    regex.append('[').append(body.startsWith("^") ? "^" : "")
                            .append(body.substring(body.startsWith("^") ? 1 : 0).replace("\\", "\\\\").replace("[", "\\["))
                            .append(']');
                    i = end;
                }
                default -> regex.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return regex.toString();
    }
}
