package dev.claudecage.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * Every configuration key, in the order they are documented and printed, with the names it has
 * in each layer: YAML files, environment variables and command-line flags.
 */
public enum ConfigKey {
    MODE(false),
    PERSIST(false),
    CLAUDE_CONFIG(false),
    MAX_SESSIONS(false),
    CPUS(false),
    MEMORY(false),
    NETWORK(false),
    DNS(false),
    ALLOWED_HOSTS(true, "--allowed-host"),
    READ_ONLY_ROOT(false),
    SECCOMP_PROFILE(false),
    PIDS_LIMIT(false),
    USER(false),
    IMAGE(false),
    RUNTIME(false),
    RUNSC_PLATFORM(false),
    ROOTFS(false),
    MOUNTS(true, "--mount"),
    MOUNT_OWNER(false),
    TMPFS_SIZE(false),
    ENV(true, "--env"),
    WORKDIR(false),
    RESOLVE(true, "--resolve"),
    EGRESS_LIMIT(false),
    MAX_CONNECTIONS(false),
    AUDIT_LOG_LIMIT(false),
    WILDCARD_NAMES_PER_MINUTE(false),
    API_UPSTREAM(false),
    NETWORK_POOL(false),
    NETWORK_POOL6(false),
    INSECURE_REGISTRIES(true, "--insecure-registry"),
    REGISTRY_MIRRORS(true, "--registry-mirror"),
    PROTECTED_PATHS(true, "--protected-path"),
    GIT_CREDENTIALS(true, "--git-credential"),
    GIT_CA_CERTIFICATES(false),
    GIT_FETCH_REPOSITORIES(true, "--git-fetch-repository"),
    GIT_PUSH_REPOSITORIES(true, "--git-push-repository"),
    GIT_PUSH_REFS(true, "--git-push-ref"),
    GIT_PUSH_FORCE_REFS(true, "--git-push-force-ref"),
    SSH_AGENT(false),
    SSH_AGENT_HOSTS(true, "--ssh-agent-host"),
    SSH_KNOWN_HOSTS(true, "--ssh-known-hosts"),
    ALLOW_UNLIMITED(false),
    HEALTHCHECK(false, "--no-healthcheck"),
    CHECKPOINT_INTERVAL(false),
    USERNS_POOL(false);

    /** Prefix of the environment variables that set keys. */
    public static final String ENVIRONMENT_PREFIX = "CLAUDE_CAGE_";

    private final boolean list;
    private final String flagName;

    ConfigKey(boolean list) {
        this.list = list;
        this.flagName = "--" + yamlName().replace('_', '-');
    }

    // A repeatable flag names one item, so it is singular where the key is plural; a switch that turns a key
    // on by default off (--no-healthcheck) is named for that.
    ConfigKey(boolean list, String flagName) {
        this.list = list;
        this.flagName = flagName;
    }

    /** The key as written in config files, e.g. max_sessions. */
    public String yamlName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The environment variable that sets this key, e.g. CLAUDE_CAGE_MAX_SESSIONS. */
    public String environmentName() {
        return ENVIRONMENT_PREFIX + name();
    }

    /** The command-line flag that sets this key, e.g. --max-sessions or, for a list, --mount. */
    public String flagName() {
        return flagName;
    }

    /** Whether the value is a list (written as a YAML list or a comma-separated string). */
    public boolean isList() {
        return list;
    }

    public static Optional<ConfigKey> fromYamlName(String name) {
        return Arrays.stream(values()).filter(key -> key.yamlName().equals(name)).findFirst();
    }
}
