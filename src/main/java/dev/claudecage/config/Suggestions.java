package dev.claudecage.config;

import java.util.Collection;
import java.util.Comparator;
import java.util.Optional;

/** "Did you mean" for misspelt names. */
final class Suggestions {

    private static final int MAX_DISTANCE = 2;
    private static final int MIN_PREFIX = 3;

    private Suggestions() {
    }

    /** The closest candidate within two edits or sharing a prefix (mem, memory_limit for memory), if any. */
    static Optional<String> closest(String input, Collection<String> candidates) {
        return candidates.stream()
                .filter(candidate -> distance(input, candidate) <= MAX_DISTANCE || sharesPrefix(input, candidate))
                .min(Comparator.comparingInt(candidate -> distance(input, candidate)));
    }

    private static boolean sharesPrefix(String a, String b) {
        String shorter = a.length() <= b.length() ? a : b;
        String longer = a.length() <= b.length() ? b : a;
        return shorter.length() >= MIN_PREFIX && longer.startsWith(shorter);
    }

    /** Levenshtein distance. */
    static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
