package dev.claudecage.net.proxy;

import dev.claudecage.net.HostRule;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Keeps a wildcard entry from being a channel out through DNS. With {@code *.example.com} allowed, the
 * proxy looks up whatever name under it the cage asks for, and the lookup carries the name's labels to
 * the zone's name servers, which whoever runs the zone can read. So a name under a wildcard entry alone
 * (no exact entry, no pin) is looked up only when the part under the wildcard's domain has at most
 * {@link #MAX_CHARS_UNDER_WILDCARD} characters, and only {@code newNamesPerMinute} names not looked up
 * before may be looked up in any minute; anything else is refused before any lookup. Names already
 * looked up (the most recent {@link #REMEMBERED_NAMES}) are free. Thread-safe.
 */
final class WildcardBudget {

    static final int MAX_CHARS_UNDER_WILDCARD = 64;
    static final int REMEMBERED_NAMES = 4096;
    private static final long MINUTE_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final int newNamesPerMinute;
    private final LongSupplier nanoClock;
    private final Map<String, Boolean> lookedUp = new LinkedHashMap<>(16, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > REMEMBERED_NAMES;
        }
    };
    private final Deque<Long> newNameTimes = new ArrayDeque<>();

    WildcardBudget(int newNamesPerMinute, LongSupplier nanoClock) {
        if (newNamesPerMinute < 1) {
            throw new IllegalArgumentException("the wildcard budget needs at least 1 name a minute, not " + newNamesPerMinute);
        }
        this.newNamesPerMinute = newNamesPerMinute;
        this.nanoClock = nanoClock;
    }

    /**
     * Why {@code name}, allowed only through {@code wildcard}, may not be looked up now; empty when it
     * may, and then it is counted.
     */
    synchronized Optional<String> refusal(String name, HostRule wildcard) {
        String domain = wildcard.pattern().substring(1);
        int under = name.length() - domain.length();
        if (under > MAX_CHARS_UNDER_WILDCARD) {
            return Optional.of(name + " has " + under + " characters under " + wildcard.pattern() + ", more than "
                    + MAX_CHARS_UNDER_WILDCARD + ": a name that long under a wildcard entry is refused without a lookup");
        }
        if (lookedUp.get(name) != null) {
            return Optional.empty();
        }
        long now = nanoClock.getAsLong();
        while (!newNameTimes.isEmpty() && now - newNameTimes.peekFirst() >= MINUTE_NANOS) {
            newNameTimes.removeFirst();
        }
        if (newNameTimes.size() >= newNamesPerMinute) {
            return Optional.of("the cage asked for more than " + newNamesPerMinute + " new names under wildcard entries "
                    + "within a minute (wildcard_names_per_minute): " + name + " is refused without a lookup; names "
                    + "already looked up still work");
        }
        newNameTimes.addLast(now);
        lookedUp.put(name, Boolean.TRUE);
        return Optional.empty();
    }
}
