package dev.claudecage.terminal;

import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/** What a {@link TerminalFilter} dropped from the cage's output, by what it would have done. */
public record DroppedControls(Map<TerminalFilter.Kind, Integer> counts) {

    public DroppedControls {
        counts = counts.isEmpty() ? Map.of() : Map.copyOf(new EnumMap<>(counts));
    }

    public static DroppedControls none() {
        return new DroppedControls(Map.of());
    }

    /** These and {@code other}'s together. */
    public DroppedControls plus(DroppedControls other) {
        Map<TerminalFilter.Kind, Integer> sum = new EnumMap<>(TerminalFilter.Kind.class);
        sum.putAll(counts);
        other.counts.forEach((kind, count) -> sum.merge(kind, count, Integer::sum));
        return new DroppedControls(sum);
    }

    public int total() {
        return counts.values().stream().mapToInt(Integer::intValue).sum();
    }

    /**
     * The line a command prints on stderr once the terminal is itself again, or empty when nothing
     * was dropped: {@code claude-cage: dropped 12 terminal control sequence(s) ... (9 window title, 3 report request)}.
     */
    public Optional<String> message() {
        if (counts.isEmpty()) {
            return Optional.empty();
        }
        String kinds = new EnumMap<>(counts).entrySet().stream()
                .map(entry -> entry.getValue() + " " + entry.getKey().words())
                .collect(Collectors.joining(", "));
        return Optional.of("claude-cage: dropped " + total() + " terminal control sequence(s) from the cage's output "
                + "that could act on your terminal (" + kinds + "); --raw-terminal passes them on");
    }
}
