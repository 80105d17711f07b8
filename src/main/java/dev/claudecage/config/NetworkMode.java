package dev.claudecage.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** How the cage reaches the network. */
public enum NetworkMode {
    /** No network at all: only loopback. */
    NONE,
    /** Only the allowed hosts, through the egress proxy. */
    FILTERED,
    /** The host's network, unfiltered. */
    HOST;

    /** The word used for this mode in config files, environment variables and flags. */
    public String yamlWord() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<NetworkMode> fromYamlWord(String word) {
        return Arrays.stream(values()).filter(mode -> mode.yamlWord().equals(word)).findFirst();
    }
}
