package dev.claudecage.session;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What {@code list} shows of a session, and the part of a {@link SessionReport} that comes from
 * the record and the view alone: the state (with the image's health while it runs), the uptime,
 * mode, network and command. Made without the policy's hash check, the cgroup numbers and the
 * desktop's access file, which a report reads and list's table does not show.
 *
 * @param state the state in words: running, running (healthy), stopped, exited(N), crashed, ...
 */
public record SessionSummary(String name, String state, Long uptimeSeconds, String mode, String network,
                             List<String> command) {

    static SessionSummary of(SessionView view, SessionPaths paths, Instant now) {
        SessionRecord record = view.record();
        Map<String, Object> config = record.config();
        boolean running = view.status() == SessionStatus.RUNNING;
        Long uptime = running && record.startedAt() != null
                ? Duration.between(instant(record.startedAt()), now).getSeconds() : null;
        // An image's HEALTHCHECK, while the cage runs: running (healthy), running (unhealthy), running (starting).
        String state = view.stateWord() + (running ? HealthMonitor.read(paths.healthFile())
                .map(health -> " (" + health.status() + ")").orElse("") : "");
        return new SessionSummary(record.name(), state, uptime, text(config.get("mode")), text(config.get("network")),
                record.command());
    }

    /**
     * {@code text} as {@link Instant#parse} reads it. A record holds Instant.toString's form
     * ({@code 2026-12-08T02:57:57.824015252Z}), read here by hand: Instant.parse's formatter initialises
     * the JDK's date-time formatting (72 classes, about 5 ms of a list or status). Any other form, or a
     * date that is not one, is Instant.parse's to read or refuse.
     */
    static Instant instant(String text) {
        int length = text.length();
        int fraction = length - 21;
        if (length >= 20 && length <= 30 && fraction != 0 && text.charAt(4) == '-' && text.charAt(7) == '-'
                && text.charAt(10) == 'T' && text.charAt(13) == ':' && text.charAt(16) == ':'
                && text.charAt(length - 1) == 'Z' && (fraction < 0 || text.charAt(19) == '.')) {
            int year = digits(text, 0, 4);
            int month = digits(text, 5, 7);
            int day = digits(text, 8, 10);
            int hour = digits(text, 11, 13);
            int minute = digits(text, 14, 16);
            int second = digits(text, 17, 19);
            int nanos = fraction < 0 ? 0 : digits(text, 20, length - 1);
            if (year >= 0 && month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month) && hour >= 0
                    && hour <= 23 && minute >= 0 && minute <= 59 && second >= 0 && second <= 59 && nanos >= 0) {
                for (int scale = fraction; scale > 0 && scale < 9; scale++) {
                    nanos *= 10;
                }
                return Instant.ofEpochSecond(epochDay(year, month, day) * 86_400L + hour * 3_600L + minute * 60L + second,
                        nanos);
            }
        }
        return Instant.parse(text);
    }

    /** The decimal number in {@code text} from {@code start} to {@code end}; -1 when a character is not a digit. */
    private static int digits(String text, int start, int end) {
        int value = 0;
        for (int i = start; i < end; i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }

    private static int daysIn(int year, int month) {
        if (month == 2) {
            return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28;
        }
        return month == 4 || month == 6 || month == 9 || month == 11 ? 30 : 31;
    }

    /** Days from 1970-01-01 to this date of the proleptic Gregorian calendar (year 0 or later). */
    private static long epochDay(int year, int month, int day) {
        int y = month <= 2 ? year - 1 : year;
        long era = Math.floorDiv(y, 400);
        long yearOfEra = y - era * 400;
        long dayOfYear = (153L * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
        long dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear;
        return era * 146_097 + dayOfEra - 719_468;
    }

    static String text(Object value) {
        return value == null ? null : value.toString();
    }
}
