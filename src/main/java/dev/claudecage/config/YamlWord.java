package dev.claudecage.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** A setting with a few named values (an enum), spelled in config files, the environment and flags in lower case. */
public interface YamlWord {

    String name();

    /** The word for this value in config files, environment variables and flags. */
    default String yamlWord() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The value of {@code type} spelled {@code word}, if one is. */
    static <E extends Enum<E> & YamlWord> Optional<E> parse(Class<E> type, String word) {
        return Arrays.stream(type.getEnumConstants()).filter(value -> value.yamlWord().equals(word)).findFirst();
    }
}
