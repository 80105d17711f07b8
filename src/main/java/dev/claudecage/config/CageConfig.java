package dev.claudecage.config;

import dev.claudecage.host.HostIds;

import java.math.BigDecimal;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The checked, immutable policy of a cage. {@link ConfigLoader} builds it from the layers and
 * checks every value, with errors that say where a bad value came from; this constructor only
 * guards against nulls.
 *
 * @param rootfs         a directory replacing the image's root filesystem, or null to use the image
 * @param mountOwner     the host user the cage works as in its mounts ({@link MountOwnership}), or null for
 *                       the sudo user, else each path's owner
 * @param insecureRegistries registries (HOST or HOST:PORT) that image pulls may reach in plain HTTP,
 *                           besides those on loopback
 * @param protectedPaths paths in each writable directory mount that the cage may neither write nor create
 * @param allowUnlimited run rootless cages even where the host cannot enforce cpus, memory and pids_limit
 * @param registryMirrors for a registry as references name it (docker.io, ghcr.io, ...), the mirrors that pulls
 *                        try first, in order
 * @param healthcheck    whether a session's supervisor runs the image's HEALTHCHECK
 * @param workdir        the command's working directory in the cage, or null for the workspace, else the image's
 *                       WORKDIR, else the home
 * @param claudeConfig   whether the invoking user's ~/.claude setup appears read-only in the cage's home
 * @param usernsPool     where root-mode cages get host ids of their own
 * @param checkpointInterval how often a --clone session's supervisor checkpoints the copy when it changed;
 *                           zero: never
 * @param runscPlatform  how gVisor intercepts the cage's system calls under {@code runtime: runsc}: ptrace, kvm,
 *                       or auto ({@link dev.claudecage.runtime.RunscPlatforms})
 */
public record CageConfig(Mode mode, boolean persist, int maxSessions, double cpus, long memoryBytes,
        NetworkMode network, String dns, List<String> allowedHosts, boolean readOnlyRoot, String seccompProfile,
        long pidsLimit, int uid, int gid, String image, String runtime, Path rootfs,
        List<MountSpec> mounts, HostIds mountOwner, long tmpfsBytes, List<String> env, EgressSettings egress,
        List<String> insecureRegistries, List<ProtectedPath> protectedPaths, boolean allowUnlimited,
        Map<String, List<URI>> registryMirrors, boolean healthcheck, String workdir, ClaudeConfig claudeConfig,
        UsernsPool usernsPool, Duration checkpointInterval, String runscPlatform) {

    public static final Duration DEFAULT_CHECKPOINT_INTERVAL = Duration.ofMinutes(10);

    public CageConfig {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(network, "network");
        Objects.requireNonNull(dns, "dns");
        Objects.requireNonNull(seccompProfile, "seccompProfile");
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(runtime, "runtime");
        Objects.requireNonNull(egress, "egress");
        Objects.requireNonNull(claudeConfig, "claudeConfig");
        Objects.requireNonNull(runscPlatform, "runscPlatform");
        Objects.requireNonNull(usernsPool, "usernsPool");
        Objects.requireNonNull(checkpointInterval, "checkpointInterval");
        allowedHosts = List.copyOf(allowedHosts);
        mounts = List.copyOf(mounts);
        env = List.copyOf(env);
        insecureRegistries = List.copyOf(insecureRegistries);
        protectedPaths = List.copyOf(protectedPaths);
        Map<String, List<URI>> mirrors = new LinkedHashMap<>();
        registryMirrors.forEach((registry, urls) -> mirrors.put(registry, List.copyOf(urls)));
        registryMirrors = Collections.unmodifiableMap(mirrors);
    }

    /** With the default checkpoint interval and gVisor's platform chosen for the host. */
    public CageConfig(Mode mode, boolean persist, int maxSessions, double cpus, long memoryBytes,
                      NetworkMode network, String dns, List<String> allowedHosts, boolean readOnlyRoot, String seccompProfile,
                      long pidsLimit, int uid, int gid, String image, String runtime, Path rootfs,
                      List<MountSpec> mounts, HostIds mountOwner, long tmpfsBytes, List<String> env, EgressSettings egress,
                      List<String> insecureRegistries, List<ProtectedPath> protectedPaths, boolean allowUnlimited,
                      Map<String, List<URI>> registryMirrors, boolean healthcheck, String workdir, ClaudeConfig claudeConfig,
                      UsernsPool usernsPool) {
        this(mode, persist, maxSessions, cpus, memoryBytes, network, dns, allowedHosts, readOnlyRoot, seccompProfile,
                pidsLimit, uid, gid, image, runtime, rootfs, mounts, mountOwner, tmpfsBytes, env, egress, insecureRegistries,
                protectedPaths, allowUnlimited, registryMirrors, healthcheck, workdir, claudeConfig, usernsPool,
                DEFAULT_CHECKPOINT_INTERVAL, "auto");
    }

    /** Without registry mirrors, with health checks, the default working directory, none of the user's Claude setup
     *  and the default userns_pool (the claude-cage account's subordinate ids). */
    public CageConfig(Mode mode, boolean persist, int maxSessions, double cpus, long memoryBytes,
                      NetworkMode network, String dns, List<String> allowedHosts, boolean readOnlyRoot, String seccompProfile,
                      long pidsLimit, int uid, int gid, String image, String runtime, Path rootfs,
                      List<MountSpec> mounts, HostIds mountOwner, long tmpfsBytes, List<String> env, EgressSettings egress,
                      List<String> insecureRegistries, List<ProtectedPath> protectedPaths, boolean allowUnlimited) {
        this(mode, persist, maxSessions, cpus, memoryBytes, network, dns, allowedHosts, readOnlyRoot, seccompProfile,
                pidsLimit, uid, gid, image, runtime, rootfs, mounts, mountOwner, tmpfsBytes, env, egress, insecureRegistries,
                protectedPaths, allowUnlimited, Map.of(), true, null, ClaudeConfig.NONE, UsernsPool.ACCOUNT);
    }

    public CageConfig withMounts(List<MountSpec> newMounts) {
        return new CageConfig(mode, persist, maxSessions, cpus, memoryBytes, network, dns, allowedHosts, readOnlyRoot,
                seccompProfile, pidsLimit, uid, gid, image, runtime, rootfs, newMounts, mountOwner, tmpfsBytes, env, egress,
                insecureRegistries, protectedPaths, allowUnlimited, registryMirrors, healthcheck, workdir, claudeConfig,
                usernsPool, checkpointInterval, runscPlatform);
    }

    public CageConfig withNetwork(NetworkMode newNetwork) {
        return new CageConfig(mode, persist, maxSessions, cpus, memoryBytes, newNetwork, dns, allowedHosts, readOnlyRoot,
                seccompProfile, pidsLimit, uid, gid, image, runtime, rootfs, mounts, mountOwner, tmpfsBytes, env, egress,
                insecureRegistries, protectedPaths, allowUnlimited, registryMirrors, healthcheck, workdir, claudeConfig,
                usernsPool, checkpointInterval, runscPlatform);
    }

    public CageConfig withEgressPolicy(List<String> newAllowedHosts, EgressSettings newEgress) {
        return new CageConfig(mode, persist, maxSessions, cpus, memoryBytes, network, dns, newAllowedHosts, readOnlyRoot,
                seccompProfile, pidsLimit, uid, gid, image, runtime, rootfs, mounts, mountOwner, tmpfsBytes, env, newEgress,
                insecureRegistries, protectedPaths, allowUnlimited, registryMirrors, healthcheck, workdir, claudeConfig,
                usernsPool, checkpointInterval, runscPlatform);
    }

    /** The values a session or a policy record keeps, as a config file would spell them; absent values are left out. */
    public Map<String, Object> recordedValues() {
        Map<String, Object> values = new LinkedHashMap<>();
        yamlValues().forEach((key, value) -> {
            if (value != null) {
                values.put(key, value);
            }
        });
        return values;
    }

    /**
     * Each key with its value written as in a config file, in documentation order: sizes as
     * "4g", lists as lists of strings, the user as "UID:GID", an absent rootfs as null.
     */
    public Map<String, Object> yamlValues() {
        Map<String, Object> values = new LinkedHashMap<>();
        for (ConfigKey key : ConfigKey.values()) {
            values.put(key.yamlName(), yamlValue(key));
        }
        return Collections.unmodifiableMap(values);
    }

    /** 2.0 as 2 and 1.5 as 1.5, never in scientific notation. */
    private static BigDecimal plainNumber(double value) {
        BigDecimal number = BigDecimal.valueOf(value).stripTrailingZeros();
        return number.scale() < 0 ? number.setScale(0) : number;
    }

    private Object yamlValue(ConfigKey key) {
        return switch (key) {
            case MODE -> mode.yamlWord();
            case PERSIST -> persist;
            case CLAUDE_CONFIG -> claudeConfig.yamlWord();
            case MAX_SESSIONS -> maxSessions;
            case CPUS -> plainNumber(cpus);
            case MEMORY -> Sizes.format(memoryBytes);
            case NETWORK -> network.yamlWord();
            case DNS -> dns;
            case ALLOWED_HOSTS -> allowedHosts;
            case READ_ONLY_ROOT -> readOnlyRoot;
            case SECCOMP_PROFILE -> seccompProfile;
            case PIDS_LIMIT -> pidsLimit;
            case USER -> uid + ":" + gid;
            case IMAGE -> image;
            case RUNTIME -> runtime;
            case RUNSC_PLATFORM -> runscPlatform;
            case ROOTFS -> rootfs == null ? null : rootfs.toString();
            case MOUNTS -> mounts.stream().map(MountSpec::format).toList();
            case MOUNT_OWNER -> mountOwner == null ? null : mountOwner.toString();
            case TMPFS_SIZE -> Sizes.format(tmpfsBytes);
            case ENV -> env;
            case WORKDIR -> workdir;
            case RESOLVE -> egress.resolve().entrySet().stream()
                    .flatMap(entry -> entry.getValue().stream().map(address -> entry.getKey() + "=" + address)).toList();
            case EGRESS_LIMIT -> Sizes.format(egress.egressLimitBytes());
            case MAX_CONNECTIONS -> egress.maxConnections();
            case AUDIT_LOG_LIMIT -> Sizes.format(egress.auditLogLimitBytes());
            case WILDCARD_NAMES_PER_MINUTE -> egress.wildcardNamesPerMinute();
            case API_UPSTREAM -> egress.apiUpstream().toString();
            case NETWORK_POOL -> egress.networkPool();
            case NETWORK_POOL6 -> egress.networkPool6();
            case INSECURE_REGISTRIES -> insecureRegistries;
            case REGISTRY_MIRRORS -> registryMirrors.entrySet().stream()
                    .flatMap(entry -> entry.getValue().stream().map(url -> entry.getKey() + "=" + url)).toList();
            case PROTECTED_PATHS -> protectedPaths.stream().map(ProtectedPath::format).toList();
            case GIT_CREDENTIALS -> egress.credentials().git().stream().map(GitCredential::format).toList();
            case GIT_CA_CERTIFICATES -> egress.credentials().gitCaCertificates() == null ? null
                    : egress.credentials().gitCaCertificates().toString();
            case GIT_FETCH_REPOSITORIES -> egress.credentials().gitAccess().fetchRepositories();
            case GIT_PUSH_REPOSITORIES -> egress.credentials().gitAccess().pushRepositories();
            case GIT_PUSH_REFS -> egress.credentials().gitAccess().pushRefs();
            case GIT_PUSH_FORCE_REFS -> egress.credentials().gitAccess().forceRefs();
            case SSH_AGENT -> egress.credentials().sshAgent();
            case SSH_AGENT_HOSTS -> egress.credentials().sshAgentHosts();
            case SSH_KNOWN_HOSTS -> egress.credentials().sshKnownHosts().stream().map(Path::toString).toList();
            case ALLOW_UNLIMITED -> allowUnlimited;
            case HEALTHCHECK -> healthcheck;
            case CHECKPOINT_INTERVAL -> checkpointInterval.isZero() ? "off" : Durations.format(checkpointInterval);
            case USERNS_POOL -> usernsPool.format();
        };
    }
}
