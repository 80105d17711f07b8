package dev.claudecage.cli;

import dev.claudecage.config.ConfigKey;
import dev.claudecage.config.EnvFile;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The policy flags shared by {@code run} and {@code verify}, the top layer of the configuration.
 * They stay strings here: the config loader checks them, so a flag and a file give the same errors.
 */
public final class CageOptions {

    private static final String DEFAULT = " Default: from the configuration (see claude-cage config).";
    private static final String REPLACES = " Repeatable; replaces the configured list.";

    @Option(names = "--mode", paramLabel = "MODE",
            description = "What runs in the cage: cli (a terminal) or desktop (a desktop in the browser)." + DEFAULT)
    private String mode;

    @Option(names = "--network", paramLabel = "POLICY",
            description = "none (no network), filtered (only the allowed hosts, through the proxy), host (unfiltered), or "
                    + "gateway:IPV4 (filtered, through a claude-cage gateway serve at that address; docs/kubernetes.md)."
                    + DEFAULT)
    private String network;

    @Option(names = "--cpus", paramLabel = "N",
            description = "CPUs the cage may use, e.g. 1.5; at most the host's CPU count." + DEFAULT)
    private String cpus;

    @Option(names = "--memory", paramLabel = "SIZE",
            description = "Memory limit, a whole number with unit b, k, m, g or t, e.g. 4g; at least 16m." + DEFAULT)
    private String memory;

    @Option(names = "--pids-limit", paramLabel = "N",
            description = "Most processes and threads in the cage at once; at least 16." + DEFAULT)
    private String pidsLimit;

    @Option(names = "--user", paramLabel = "UID[:GID]",
            description = "User the agent runs as inside the cage; root (0) is refused." + DEFAULT)
    private String user;

    @Option(names = "--image", paramLabel = "NAME",
            description = "Image whose root filesystem the cage runs." + DEFAULT)
    private String image;

    @Option(names = "--rootfs", paramLabel = "DIR",
            description = "A directory to use as the root filesystem instead of the image." + DEFAULT)
    private String rootfs;

    @Option(names = "--runtime", paramLabel = "RUNTIME",
            description = "OCI runtime that starts the cage: runc, crun, or runsc (gVisor; root only)." + DEFAULT)
    private String runtime;

    @Option(names = "--runsc-platform", paramLabel = "PLATFORM",
            description = "How gVisor (--runtime runsc) intercepts the cage's system calls: ptrace, kvm, or auto "
                    + "(kvm where claude-cage doctor found it working since the last boot, else ptrace)." + DEFAULT)
    private String runscPlatform;

    @Option(names = {"--mount", "-v"}, paramLabel = "HOST:CAGE[:ro|:rw]",
            description = "Bind-mount a host folder or regular file into the cage, read-write unless :ro; the host's "
                    + "system folders, /run, sockets and devices are refused." + REPLACES + DEFAULT)
    private List<String> mounts;

    @Option(names = "--mount-owner", paramLabel = "UID[:GID]",
            description = "Run as root: the host user the cage works as in your mounts; what it writes there is theirs. "
                    + "Without it, the user who ran sudo, else each path's owner if that is a person (uid and gid "
                    + "1000 or above); a writable mount of root's or a system account's is then refused. Never 0."
                    + DEFAULT)
    private String mountOwner;

    @Option(names = {"--env", "-e"}, paramLabel = "KEY[=VALUE]",
            description = "Set an environment variable in the cage; a KEY alone takes its value from claude-cage's "
                    + "own environment." + REPLACES + " With --env-file, these come after the file's." + DEFAULT)
    private List<String> env;

    @Option(names = "--env-file", paramLabel = "FILE",
            description = "Set the environment variables of FILE in the cage, as docker does: a KEY=VALUE or KEY line "
                    + "each, blank lines and '#' lines skipped, values as written. Repeatable; replaces the "
                    + "configured list." + DEFAULT)
    private List<Path> envFiles;

    @Option(names = {"--workdir", "-w"}, paramLabel = "DIR",
            description = "The command's working directory in the cage, an absolute path. Default: from the "
                    + "configuration, else /workspace when mounted, else the image's WORKDIR, else the home.")
    private String workdir;

    @Option(names = "--claude-config", paramLabel = "inherit|none",
            description = "inherit: your ~/.claude settings.json, CLAUDE.md, agents, commands and skills appear "
                    + "read-only in the cage's home (never your login); none: nothing of yours." + DEFAULT)
    private String claudeConfig;

    @Option(names = "--allowed-host", paramLabel = "HOST[:PORT]",
            description = "A host the cage may reach when the network is filtered: a name, a *.domain wildcard, or "
                    + "a preset of an ecosystem's hosts such as preset:npm (docs/network.md lists them)."
                    + REPLACES + DEFAULT)
    private List<String> allowedHosts;

    @Option(names = "--dns", paramLabel = "IP",
            description = "IP address of the DNS resolver the proxy uses for the allowed hosts." + DEFAULT)
    private String dns;

    @Option(names = "--seccomp-profile", paramLabel = "default|PATH",
            description = "Syscall filter: default (the shipped allowlist) or the absolute path of a JSON profile."
                    + DEFAULT)
    private String seccompProfile;

    @Option(names = "--tmpfs-size", paramLabel = "SIZE",
            description = "Size of the writable tmpfs for /tmp and the home, e.g. 1g; at least 1m." + DEFAULT)
    private String tmpfsSize;

    @Option(names = "--resolve", paramLabel = "NAME=ADDRESS",
            description = "Pin a host name to an address for the proxy, like curl --resolve." + REPLACES + DEFAULT)
    private List<String> resolve;

    @Option(names = "--egress-limit", paramLabel = "SIZE",
            description = "Most bytes the cage may move through the proxy and the API gateway together, e.g. 1g; past them "
                    + "the cage is cut off in both." + DEFAULT)
    private String egressLimit;

    @Option(names = "--max-connections", paramLabel = "N",
            description = "Most connections the cage may hold open through the proxy and the API gateway together."
                    + DEFAULT)
    private String maxConnections;

    @Option(names = "--audit-log-limit", paramLabel = "SIZE",
            description = "Most bytes the cage's audit log file may hold, e.g. 100m; past them, events are only "
                    + "counted." + DEFAULT)
    private String auditLogLimit;

    @Option(names = "--wildcard-names-per-minute", paramLabel = "N",
            description = "Most new names under *.domain entries the proxy looks up in a minute; more are refused "
                    + "without a lookup." + DEFAULT)
    private String wildcardNamesPerMinute;

    @Option(names = "--api-upstream", paramLabel = "URL",
            description = "Where the API gateway forwards the cage's Anthropic API calls." + DEFAULT)
    private String apiUpstream;

    @Option(names = "--protected-path", paramLabel = "PATH",
            description = "A path in each writable mounted folder that the cage may neither write nor create, "
                    + "relative, '/' ending a folder (e.g. .envrc, .vscode/)." + REPLACES + DEFAULT)
    private List<String> protectedPaths;

    @Option(names = "--git-credential", paramLabel = "[USER@]HOST=command:WORDS|file:PATH",
            description = "A host whose git requests the git gateway signs with your token, and where the token comes "
                    + "from; the token never enters the cage." + REPLACES + DEFAULT)
    private List<String> gitCredentials;

    @Option(names = "--git-ca-certificates", paramLabel = "PEM",
            description = "CA certificates the git gateway trusts besides the standard ones." + DEFAULT)
    private String gitCaCertificates;

    @Option(names = "--git-fetch-repository", paramLabel = "OWNER/NAME",
            description = "A repository (a glob, '*' any characters) of the git_credentials hosts that git may fetch "
                    + "through the git gateway." + REPLACES + DEFAULT)
    private List<String> gitFetchRepositories;

    @Option(names = "--git-push-repository", paramLabel = "OWNER/NAME",
            description = "A repository (a glob) of the git_credentials hosts that git may push to through the git "
                    + "gateway." + REPLACES + DEFAULT)
    private List<String> gitPushRepositories;

    @Option(names = "--git-push-ref", paramLabel = "REF",
            description = "A ref (a glob, e.g. refs/heads/claude/*) a push through the git gateway may create or update."
                    + REPLACES + DEFAULT)
    private List<String> gitPushRefs;

    @Option(names = "--git-push-force-ref", paramLabel = "REF",
            description = "A ref (a glob, among --git-push-ref) whose existing value a push may also replace or delete."
                    + REPLACES + DEFAULT)
    private List<String> gitPushForceRefs;

    @Option(names = "--ssh-agent",
            description = "Forward the host's SSH agent through a relay that signs only for --ssh-agent-host hosts."
                    + DEFAULT)
    private Boolean sshAgent;

    @Option(names = "--ssh-agent-host", paramLabel = "HOST",
            description = "A host the forwarded SSH agent may sign for." + REPLACES + DEFAULT)
    private List<String> sshAgentHosts;

    @Option(names = "--ssh-known-hosts", paramLabel = "FILE",
            description = "A known_hosts file with the keys of the --ssh-agent-host hosts." + REPLACES + DEFAULT)
    private List<String> sshKnownHosts;

    @Option(names = "--no-healthcheck", description = "Does not run the image's HEALTHCHECK in a session." + DEFAULT)
    private boolean noHealthcheck;

    @Option(names = "--checkpoint-interval", paramLabel = "DURATION",
            description = "How often a --clone session's copy is checkpointed when it changed (10m, 1h), or off." + DEFAULT)
    private String checkpointInterval;

    @Option(names = "--allow-unlimited",
            description = "Rootless: run even where the host cannot enforce cpus, memory and pids_limit "
                    + "(no cgroup delegation); without it such a start is refused." + DEFAULT)
    private boolean allowUnlimited;

    /** The flags the user gave, by YAML key, as {@code ConfigLoader.load} takes them. */
    public Map<String, Object> asFlags() {
        Map<String, Object> flags = new LinkedHashMap<>();
        put(flags, ConfigKey.MODE, mode);
        put(flags, ConfigKey.NETWORK, network);
        put(flags, ConfigKey.CPUS, cpus);
        put(flags, ConfigKey.MEMORY, memory);
        put(flags, ConfigKey.PIDS_LIMIT, pidsLimit);
        put(flags, ConfigKey.USER, user);
        put(flags, ConfigKey.IMAGE, image);
        put(flags, ConfigKey.ROOTFS, rootfs);
        put(flags, ConfigKey.RUNTIME, runtime);
        put(flags, ConfigKey.RUNSC_PLATFORM, runscPlatform);
        put(flags, ConfigKey.MOUNTS, mounts);
        put(flags, ConfigKey.MOUNT_OWNER, mountOwner);
        put(flags, ConfigKey.ENV, environment());
        put(flags, ConfigKey.WORKDIR, workdir);
        put(flags, ConfigKey.CLAUDE_CONFIG, claudeConfig);
        put(flags, ConfigKey.ALLOWED_HOSTS, allowedHosts);
        put(flags, ConfigKey.DNS, dns);
        put(flags, ConfigKey.SECCOMP_PROFILE, seccompProfile);
        put(flags, ConfigKey.TMPFS_SIZE, tmpfsSize);
        put(flags, ConfigKey.RESOLVE, resolve);
        put(flags, ConfigKey.EGRESS_LIMIT, egressLimit);
        put(flags, ConfigKey.MAX_CONNECTIONS, maxConnections);
        put(flags, ConfigKey.AUDIT_LOG_LIMIT, auditLogLimit);
        put(flags, ConfigKey.WILDCARD_NAMES_PER_MINUTE, wildcardNamesPerMinute);
        put(flags, ConfigKey.API_UPSTREAM, apiUpstream);
        put(flags, ConfigKey.PROTECTED_PATHS, protectedPaths);
        put(flags, ConfigKey.GIT_CREDENTIALS, gitCredentials);
        put(flags, ConfigKey.GIT_CA_CERTIFICATES, gitCaCertificates);
        put(flags, ConfigKey.GIT_FETCH_REPOSITORIES, gitFetchRepositories);
        put(flags, ConfigKey.GIT_PUSH_REPOSITORIES, gitPushRepositories);
        put(flags, ConfigKey.GIT_PUSH_REFS, gitPushRefs);
        put(flags, ConfigKey.GIT_PUSH_FORCE_REFS, gitPushForceRefs);
        put(flags, ConfigKey.SSH_AGENT, sshAgent == null ? null : sshAgent.toString());
        put(flags, ConfigKey.SSH_AGENT_HOSTS, sshAgentHosts);
        put(flags, ConfigKey.SSH_KNOWN_HOSTS, sshKnownHosts);
        put(flags, ConfigKey.ALLOW_UNLIMITED, allowUnlimited ? "true" : null);
        put(flags, ConfigKey.HEALTHCHECK, noHealthcheck ? "false" : null);
        put(flags, ConfigKey.CHECKPOINT_INTERVAL, checkpointInterval);
        return flags;
    }

    /** The files' variables, then the -e ones, or null when neither flag was given. */
    private List<String> environment() {
        if (env == null && envFiles == null) {
            return null;
        }
        Map<String, String> own = System.getenv();
        List<String> entries = new ArrayList<>();
        if (envFiles != null) {
            envFiles.forEach(file -> entries.addAll(EnvFile.read(file, own)));
        }
        if (env != null) {
            env.forEach(entry -> entries.add(EnvFile.expand(entry, own)));
        }
        return entries;
    }

    private static void put(Map<String, Object> flags, ConfigKey key, Object value) {
        if (value != null) {
            flags.put(key.yamlName(), value);
        }
    }
}
