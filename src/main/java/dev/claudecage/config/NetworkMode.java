package dev.claudecage.config;

/** How the cage reaches the network. */
public enum NetworkMode implements YamlWord {
    /** No network at all: only loopback. */
    NONE,
    /** Only the allowed hosts, through the egress proxy. */
    FILTERED,
    /** The host's network, unfiltered. */
    HOST
}
