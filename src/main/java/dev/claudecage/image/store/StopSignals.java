package dev.claudecage.image.store;

import java.util.Locale;
import java.util.Map;

/**
 * STOPSIGNAL values as Docker reads them ({@code signal.ParseSignal}): a signal number, or a
 * Linux signal's name with or without {@code SIG}, in any case ({@code SIGQUIT}, {@code quit},
 * {@code 3}). The image records the value as written; the number is what a stop sends.
 */
public final class StopSignals {

    /** Linux's signal numbers on x86-64 and arm64, as the kernel (and Docker's SignalMap) has them. */
    private static final Map<String, Integer> NUMBERS = Map.ofEntries(
            Map.entry("HUP", 1), Map.entry("INT", 2), Map.entry("QUIT", 3), Map.entry("ILL", 4), Map.entry("TRAP", 5),
            Map.entry("ABRT", 6), Map.entry("IOT", 6), Map.entry("BUS", 7), Map.entry("FPE", 8), Map.entry("KILL", 9),
            Map.entry("USR1", 10), Map.entry("SEGV", 11), Map.entry("USR2", 12), Map.entry("PIPE", 13),
            Map.entry("ALRM", 14), Map.entry("TERM", 15), Map.entry("STKFLT", 16), Map.entry("CHLD", 17),
            Map.entry("CONT", 18), Map.entry("STOP", 19), Map.entry("TSTP", 20), Map.entry("TTIN", 21),
            Map.entry("TTOU", 22), Map.entry("URG", 23), Map.entry("XCPU", 24), Map.entry("XFSZ", 25),
            Map.entry("VTALRM", 26), Map.entry("PROF", 27), Map.entry("WINCH", 28), Map.entry("IO", 29),
            Map.entry("POLL", 29), Map.entry("PWR", 30), Map.entry("SYS", 31));
    private static final int MAX_SIGNAL = 64;
    public static final int SIGTERM = 15;

    private StopSignals() {
    }

    /** The signal's number; {@link IllegalArgumentException} for a value that names no signal. */
    public static int number(String signal) {
        if (signal.matches("[0-9]{1,3}")) {
            int number = Integer.parseInt(signal);
            if (number < 1 || number > MAX_SIGNAL) {
                throw new IllegalArgumentException("'" + signal + "' is not a signal number (1 to " + MAX_SIGNAL + ")");
            }
            return number;
        }
        String name = signal.toUpperCase(Locale.ROOT);
        name = name.startsWith("SIG") ? name.substring(3) : name;
        Integer number = NUMBERS.get(name);
        if (number == null) {
            throw new IllegalArgumentException("'" + signal + "' is not a signal; write a name like SIGQUIT or a number");
        }
        return number;
    }
}
