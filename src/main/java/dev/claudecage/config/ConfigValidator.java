package dev.claudecage.config;

import dev.claudecage.UserInputException;
import dev.claudecage.host.HostIds;

import java.io.IOException;
import java.math.BigDecimal;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns the merged raw values into a {@link CageConfig}, checking each key. Every problem is
 * reported at once, one line each, as "KEY: 'VALUE' PROBLEM (from WHERE); WHAT IS ALLOWED".
 */
final class ConfigValidator {

    private static final String SIZE_FORM = "use a whole number with a unit b, k, m, g or t, e.g. 512m or 4g";
    private static final long MIN_MEMORY = 16L << 20;
    private static final long MIN_TMPFS = 1L << 20;
    private static final int MIN_PIDS = 16;
    private static final long MIN_EGRESS = 1L << 20;
    private static final long MAX_CONNECTIONS = 10_000;
    /** Room for the lines of a start and the line that says the cap is reached. */
    private static final long MIN_AUDIT_LOG = 64L << 10;
    private static final long MAX_WILDCARD_NAMES_PER_MINUTE = 10_000;
    /** Each cage takes a /30 (IPv4) and a /64 (IPv6) from its pool. */
    private static final int LARGEST_POOL4_PREFIX = 28;
    private static final int LARGEST_POOL6_PREFIX = 60;

    private static final Pattern WHOLE_NUMBER = Pattern.compile("-?[0-9]+");
    private static final String OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";
    private static final Pattern IPV4 = Pattern.compile(OCTET + "(\\." + OCTET + "){3}");
    // InetAddress treats text that starts with a hex digit or ':' and holds a ':' as an IPv6 literal,
    // failing rather than looking it up; anything else it would send to DNS.
    private static final Pattern IPV6_LITERAL_CANDIDATE = Pattern.compile("(?=.*:)[0-9A-Fa-f:][0-9A-Fa-f:.]*");
    private static final Pattern NUMERIC_LABEL = Pattern.compile("[0-9]+");
    private static final Pattern USER = Pattern.compile("([0-9]+)(?::([0-9]+))?");
    private static final Pattern IMAGE = Pattern.compile("[a-z0-9][a-z0-9._-]*");
    private static final Pattern ENV_ENTRY = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*=.*", Pattern.DOTALL);
    private static final List<String> RUNTIMES = List.of("runc", "crun", "runsc");
    private static final List<String> RUNSC_PLATFORMS = List.of("auto", "ptrace", "kvm");
    /** Each checkpoint reads the whole copy; more often than this it would mostly find nothing changed. */
    private static final Duration MIN_CHECKPOINT_INTERVAL = Duration.ofSeconds(10);
    /** The ids one cage takes from userns_pool (0 to 65535 in the cage), and where a pool may start: past them. */
    private static final long USERNS_BLOCK = 65536;
    private static final long FIRST_USERNS_POOL_ID = 65536;
    private static final long LAST_ID = 4_294_967_294L;

    private final HostFacts host;
    private final Path workingDir;

    ConfigValidator(HostFacts host, Path workingDir) {
        this.host = host;
        this.workingDir = workingDir;
    }

    /** Checks every key; all keys must be present, as the built-in defaults set them all. */
    CageConfig validate(Map<ConfigKey, RawValue> values) {
        List<String> problems = new ArrayList<>();
        Checker checker = new Checker(values, problems);
        // Each method reference made once, for all the keys it checks: the class-data archive keeps one
        // lambda class per distinct call-site shape, so a second site of the same shape spun a class of its
        // own on every start (about 1 ms each in a cold JVM).
        Function<RawValue, Boolean> bool = this::bool;
        Function<RawValue, List<String>> repositoryGlobs = this::repositoryGlobs;
        Function<RawValue, List<String>> refGlobs = this::refGlobs;
        Mode mode = checker.check(ConfigKey.MODE, this::mode);
        Boolean persist = checker.check(ConfigKey.PERSIST, bool);
        ClaudeConfig claudeConfig = checker.check(ConfigKey.CLAUDE_CONFIG, this::claudeConfig);
        Long maxSessions = checker.check(ConfigKey.MAX_SESSIONS, raw -> wholeNumber(raw, 1, Integer.MAX_VALUE));
        Double cpus = checker.check(ConfigKey.CPUS, this::cpus);
        Long memory = checker.check(ConfigKey.MEMORY, raw -> size(raw, MIN_MEMORY));
        NetworkChoice networkChoice = checker.check(ConfigKey.NETWORK, this::network);
        NetworkMode network = networkChoice == null ? null : networkChoice.mode();
        String dns = checker.check(ConfigKey.DNS, this::dns);
        List<String> allowedHosts = checker.check(ConfigKey.ALLOWED_HOSTS, this::allowedHosts);
        Boolean readOnlyRoot = checker.check(ConfigKey.READ_ONLY_ROOT, bool);
        String seccompProfile = checker.check(ConfigKey.SECCOMP_PROFILE, this::seccompProfile);
        Long pidsLimit = checker.check(ConfigKey.PIDS_LIMIT, raw -> wholeNumber(raw, MIN_PIDS, Long.MAX_VALUE));
        HostIds user = checker.check(ConfigKey.USER, this::user);
        String image = checker.check(ConfigKey.IMAGE, raw -> image(raw, mode));
        String runtime = checker.check(ConfigKey.RUNTIME, this::runtime);
        String runscPlatform = checker.check(ConfigKey.RUNSC_PLATFORM, this::runscPlatform);
        Path rootfs = checker.check(ConfigKey.ROOTFS, this::rootfs);
        Optional<HostIds> mountOwner = checker.check(ConfigKey.MOUNT_OWNER, this::mountOwner);
        List<MountSpec> mounts = checker.check(ConfigKey.MOUNTS, raw -> mounts(raw, user, mountOwner));
        Long tmpfs = checker.check(ConfigKey.TMPFS_SIZE, raw -> size(raw, MIN_TMPFS));
        List<String> env = checker.check(ConfigKey.ENV, this::env);
        Optional<String> workdir = checker.check(ConfigKey.WORKDIR, this::workdir);
        Map<String, List<String>> resolve = checker.check(ConfigKey.RESOLVE, this::resolve);
        Long egressLimit = checker.check(ConfigKey.EGRESS_LIMIT, raw -> size(raw, MIN_EGRESS));
        Long maxConnections = checker.check(ConfigKey.MAX_CONNECTIONS, raw -> wholeNumber(raw, 1, MAX_CONNECTIONS));
        Long auditLogLimit = checker.check(ConfigKey.AUDIT_LOG_LIMIT, raw -> size(raw, MIN_AUDIT_LOG));
        Long wildcardNames = checker.check(ConfigKey.WILDCARD_NAMES_PER_MINUTE,
                raw -> wholeNumber(raw, 1, MAX_WILDCARD_NAMES_PER_MINUTE));
        URI apiUpstream = checker.check(ConfigKey.API_UPSTREAM, this::apiUpstream);
        String pool = checker.check(ConfigKey.NETWORK_POOL, this::networkPool);
        String pool6 = checker.check(ConfigKey.NETWORK_POOL6, this::networkPool6);
        List<String> insecureRegistries = checker.check(ConfigKey.INSECURE_REGISTRIES, this::insecureRegistries);
        Map<String, List<URI>> registryMirrors = checker.check(ConfigKey.REGISTRY_MIRRORS, this::registryMirrors);
        List<ProtectedPath> protectedPaths = checker.check(ConfigKey.PROTECTED_PATHS, this::protectedPaths);
        List<GitCredential> git = checker.check(ConfigKey.GIT_CREDENTIALS, this::gitCredentials);
        Path gitCa = checker.check(ConfigKey.GIT_CA_CERTIFICATES, this::gitCaCertificates);
        List<String> fetchRepositories = checker.check(ConfigKey.GIT_FETCH_REPOSITORIES, repositoryGlobs);
        List<String> pushRepositories = checker.check(ConfigKey.GIT_PUSH_REPOSITORIES, repositoryGlobs);
        List<String> pushRefs = checker.check(ConfigKey.GIT_PUSH_REFS, refGlobs);
        List<String> forceRefs = checker.check(ConfigKey.GIT_PUSH_FORCE_REFS, refGlobs);
        Boolean sshAgent = checker.check(ConfigKey.SSH_AGENT, bool);
        List<String> sshHosts = checker.check(ConfigKey.SSH_AGENT_HOSTS, this::sshAgentHosts);
        List<Path> knownHosts = checker.check(ConfigKey.SSH_KNOWN_HOSTS, this::sshKnownHosts);
        // Both work through the filtered network's gateways; elsewhere they would silently do nothing.
        if (networkChoice != null && networkChoice.gateway() != null) {
            if (Boolean.TRUE.equals(sshAgent)) {
                problems.add("ssh_agent: the SSH agent relay runs beside the cage, and network: gateway:ADDRESS runs "
                        + "nothing beside it; use network: filtered");
            }
            if (git != null && !git.isEmpty()) {
                problems.add("git_credentials: with network: gateway:ADDRESS the git gateway is that gateway's; give "
                        + "the credentials to it (claude-cage gateway serve --git-credential)");
            }
        } else if (network != null && network != NetworkMode.FILTERED) {
            if (Boolean.TRUE.equals(sshAgent)) {
                problems.add("ssh_agent: the SSH agent relay needs network: filtered, not " + network.yamlWord());
            }
            if (git != null && !git.isEmpty()) {
                problems.add("git_credentials: the git gateway needs network: filtered, not " + network.yamlWord());
            }
        }
        Boolean allowUnlimited = checker.check(ConfigKey.ALLOW_UNLIMITED, bool);
        Boolean healthcheck = checker.check(ConfigKey.HEALTHCHECK, bool);
        Duration checkpointInterval = checker.check(ConfigKey.CHECKPOINT_INTERVAL, this::checkpointInterval);
        UsernsPool usernsPool = checker.check(ConfigKey.USERNS_POOL, this::usernsPool);
        if (!problems.isEmpty()) {
            throw combined(problems);
        }
        return new CageConfig(mode, persist, maxSessions.intValue(), cpus, memory, network, dns, allowedHosts,
                readOnlyRoot, seccompProfile, pidsLimit, user.uid(), user.gid(), image, runtime, rootfs, mounts,
                mountOwner.orElse(null), tmpfs, env,
                new EgressSettings(resolve, egressLimit, maxConnections.intValue(), apiUpstream, pool, pool6,
                        new CredentialSettings(git, gitCa,
                                new GitAccessRules(fetchRepositories, pushRepositories, pushRefs, forceRefs), sshAgent,
                                sshHosts, knownHosts), auditLogLimit,
                        wildcardNames.intValue(), networkChoice.gateway()),
                insecureRegistries, protectedPaths, allowUnlimited, registryMirrors, healthcheck, workdir.orElse(null),
                claudeConfig, usernsPool, checkpointInterval, runscPlatform);
    }

    /** One error for one problem or several, each on its own line. */
    static UserInputException combined(List<String> problems) {
        if (problems.size() == 1) {
            return new UserInputException(problems.get(0));
        }
        return new UserInputException(problems.size() + " configuration problems:\n  " + String.join("\n  ", problems));
    }

    /** Runs each key's check, keeping its problem so that all of them are reported at once. */
    private static final class Checker {
        private final Map<ConfigKey, RawValue> values;
        private final List<String> problems;

        Checker(Map<ConfigKey, RawValue> values, List<String> problems) {
            this.values = values;
            this.problems = problems;
        }

        <T> T check(ConfigKey key, Function<RawValue, T> parse) {
            RawValue raw = values.get(key);
            if (raw == null) {
                throw new IllegalStateException("no value for " + key.yamlName() + ": the built-in defaults must set every key");
            }
            try {
                return parse.apply(raw);
            } catch (UserInputException e) {
                problems.add(e.getMessage());
                return null;
            }
        }
    }

    private Mode mode(RawValue raw) {
        String allowed = "use cli or desktop";
        return word(raw, text(raw, allowed), Mode.class, "is not a mode", allowed);
    }

    /** A network mode, and for {@code gateway:ADDRESS} the address of the gateway that serves the filtered cage. */
    private record NetworkChoice(NetworkMode mode, String gateway) {
    }

    private NetworkChoice network(RawValue raw) {
        String allowed = "use none, filtered, host, or gateway:IPV4 (a filtered cage whose gateway is claude-cage "
                + "gateway serve at that address)";
        String text = text(raw, allowed);
        if (text.startsWith(GATEWAY_PREFIX)) {
            String address = text.substring(GATEWAY_PREFIX.length());
            if (!IPV4.matcher(address).matches() || ipLiteral(address) == null) {
                throw invalid(raw, text, "does not name the gateway by its IPv4 address", allowed);
            }
            return new NetworkChoice(NetworkMode.FILTERED, ipLiteral(address).getHostAddress());
        }
        return new NetworkChoice(word(raw, text, NetworkMode.class, "is not a network mode", allowed), null);
    }

    /** network: gateway:ADDRESS, a filtered cage whose services run elsewhere. */
    private static final String GATEWAY_PREFIX = "gateway:";

    private ClaudeConfig claudeConfig(RawValue raw) {
        String allowed = "use inherit (your ~/.claude settings.json, CLAUDE.md, agents, commands and skills, read-only) "
                + "or none";
        return word(raw, text(raw, allowed), ClaudeConfig.class, "is not a claude_config setting", allowed);
    }

    /** Empty for the default (the workspace, else the image's WORKDIR, else the home). */
    private Optional<String> workdir(RawValue raw) {
        String allowed = "leave it empty for /workspace when mounted (else the image's WORKDIR, else the home), or give "
                + "an absolute, normalized path in the cage, e.g. /workspace/src";
        if (raw.leftEmpty()) {
            return Optional.empty();
        }
        String text = text(raw, allowed);
        if (!text.startsWith("/")) {
            throw invalid(raw, text, "is not an absolute path", allowed);
        }
        if (text.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw invalid(raw, text, "holds a control character", allowed);
        }
        if (!text.equals("/") && !Path.of(text).normalize().toString().equals(text)) {
            throw invalid(raw, text, "is not normalized (no '.', '..', '//' or trailing '/')", allowed);
        }
        return Optional.of(text);
    }

    private boolean bool(RawValue raw) {
        String allowed = "use true or false";
        String text = text(raw, allowed);
        return switch (text.toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw invalid(raw, text, "is not a boolean", allowed);
        };
    }

    /** How often a --clone session is checkpointed: a duration of a minute or more, or 0/off for never. */
    private Duration checkpointInterval(RawValue raw) {
        String allowed = "use a duration of at least " + Durations.format(MIN_CHECKPOINT_INTERVAL)
                + " (10m, 1h30m), or off (or 0) for no checkpoints but those taken with claude-cage checkpoint";
        String text = text(raw, allowed);
        if (text.equals("off") || text.equals("0")) {
            return Duration.ZERO;
        }
        Duration interval;
        try {
            interval = Durations.parse(text, raw.key().yamlName());
        } catch (UserInputException e) {
            throw invalid(raw, text, "is not a duration", allowed);
        }
        if (interval.compareTo(MIN_CHECKPOINT_INTERVAL) < 0) {
            throw invalid(raw, text, "is shorter than " + Durations.format(MIN_CHECKPOINT_INTERVAL)
                    + ": each checkpoint reads the whole copy", allowed);
        }
        return interval;
    }

    private long wholeNumber(RawValue raw, long minimum, long maximum) {
        String allowed = "use a whole number, at least " + minimum;
        String text = text(raw, allowed);
        if (!WHOLE_NUMBER.matcher(text).matches()) {
            throw invalid(raw, text, "is not a whole number", allowed);
        }
        long number;
        try {
            number = Long.parseLong(text);
        } catch (NumberFormatException tooLarge) {
            throw invalid(raw, text, "is too large", allowed);
        }
        if (number < minimum) {
            throw invalid(raw, text, "is less than " + minimum, allowed);
        }
        if (number > maximum) {
            throw invalid(raw, text, "is too large", allowed);
        }
        return number;
    }

    private double cpus(RawValue raw) {
        String allowed = "use a number of CPUs above 0 and at most " + host.cpuCount()
                + " (this host's CPU count), e.g. 1.5";
        String text = text(raw, allowed);
        BigDecimal cpus;
        try {
            cpus = new BigDecimal(text);
        } catch (NumberFormatException e) {
            throw invalid(raw, text, "is not a number", allowed);
        }
        if (cpus.signum() <= 0) {
            throw invalid(raw, text, "is not above 0", allowed);
        }
        if (cpus.compareTo(BigDecimal.valueOf(host.cpuCount())) > 0) {
            // The shipped default must work on any host, so it shrinks to fit; a user's value never does.
            if (raw.origin().equals(ConfigLoader.BUILT_IN_DEFAULT)) {
                return host.cpuCount();
            }
            throw invalid(raw, text, "is more than this host's " + host.cpuCount() + " CPUs", allowed);
        }
        return cpus.doubleValue();
    }

    private long size(RawValue raw, long minimum) {
        String allowed = SIZE_FORM + ", at least " + Sizes.format(minimum);
        String text = text(raw, allowed);
        long bytes = Sizes.parse(text).orElseThrow(() -> invalid(raw, text, "is not a size", allowed));
        if (bytes < minimum) {
            throw invalid(raw, text, "is less than " + Sizes.format(minimum), allowed);
        }
        return bytes;
    }

    private String dns(RawValue raw) {
        String allowed = "use the IP address of a DNS resolver, e.g. 1.1.1.1 or 2606:4700:4700::1111 (names are not resolved)";
        String text = text(raw, allowed);
        if (!IPV4.matcher(text).matches() && !IPV6_LITERAL_CANDIDATE.matcher(text).matches()) {
            throw invalid(raw, text, "is not an IP address", allowed);
        }
        InetAddress address;
        try {
            address = InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            throw invalid(raw, text, "is not an IP address", allowed);
        }
        if (address.isAnyLocalAddress() || address.isMulticastAddress()) {
            throw invalid(raw, text, "is not the address of a single host", allowed);
        }
        return text;
    }

    private List<String> allowedHosts(RawValue raw) {
        return new ArrayList<>(expandAllowedHosts(raw).keySet());
    }

    /**
     * The allowed_hosts entries with each preset:NAME replaced by its hosts, in order and without repeats, each
     * with the preset that first brought it (preset:npm), or null for an entry written as a host. A preset's
     * hosts pass the same check as the user's own.
     */
    static Map<String, String> expandAllowedHosts(RawValue raw) {
        return expandAllowedHosts(raw, HostPresets.ALL);
    }

    /** As {@link #expandAllowedHosts(RawValue)}, with these presets: a test's own. */
    static Map<String, String> expandAllowedHosts(RawValue raw, List<HostPresets.Preset> presets) {
        String allowed = "use host names such as api.anthropic.com, wildcards such as *.example.com, "
                + "each with an optional :PORT, or presets such as preset:npm, as a YAML list or separated by commas";
        Map<String, String> hosts = new LinkedHashMap<>();
        for (String entry : items(raw, allowed)) {
            if (HostPresets.isPreset(entry)) {
                HostPresets.Preset preset = HostPresets.named(entry, presets).orElseThrow(() -> unknownPreset(raw, entry));
                for (String host : preset.hosts()) {
                    String problem = AllowedHostEntry.problem(host);
                    if (problem != null) {
                        throw invalid(raw, preset.entry(), "holds '" + host + "', which " + problem, allowed);
                    }
                    if (!hosts.containsKey(host)) {
                        hosts.put(host, preset.entry());
                    }
                }
                continue;
            }
            String problem = AllowedHostEntry.problem(entry);
            if (problem != null) {
                throw invalid(raw, entry, problem, allowed);
            }
            // Written out, a host is the user's even where a preset names it too (putIfAbsent would take a null for absent).
            if (!hosts.containsKey(entry.toLowerCase(Locale.ROOT))) {
                hosts.put(entry.toLowerCase(Locale.ROOT), null);
            }
        }
        return hosts;
    }

    private static UserInputException unknownPreset(RawValue raw, String entry) {
        String advice = Suggestions.closest(entry.toLowerCase(Locale.ROOT), HostPresets.entries())
                .map(suggestion -> "did you mean " + suggestion + "? ").orElse("");
        return invalid(raw, entry, "is not a preset", advice + "the presets are "
                + String.join(", ", HostPresets.entries()) + " (docs/network.md lists their hosts)");
    }

    /**
     * Registries spoken to in plain HTTP besides loopback: HOST or HOST:PORT, a host name or an
     * IPv4 address, no wildcards (each is a deliberate exception to HTTPS).
     */
    private List<String> insecureRegistries(RawValue raw) {
        String allowed = "use HOST or HOST:PORT of a registry on a network you trust, e.g. registry.lan:5000 or "
                + "192.168.1.20:5000 (loopback registries need no entry)";
        return eachItem(raw, allowed, entry -> {
            String lower = entry.toLowerCase(Locale.ROOT);
            int colon = lower.indexOf(':');
            String host = colon < 0 ? lower : lower.substring(0, colon);
            String problem = lower.startsWith("[") ? "is an IPv6 address; name the registry by host name or IPv4 address"
                    : colon >= 0 ? AllowedHostEntry.portProblem(lower.substring(colon + 1)) : null;
            if (problem == null && host.contains("*")) {
                problem = "is a wildcard; name each registry";
            }
            if (problem == null && !IPV4.matcher(host).matches()) {
                problem = AllowedHostEntry.problem(host);
            }
            if (problem != null) {
                throw invalid(raw, entry, problem, allowed);
            }
            return lower;
        });
    }

    /**
     * Mirrors that pulls try before a registry: REGISTRY=URL, the registry as image references name it
     * (docker.io for Docker Hub), the URL http(s)://HOST[:PORT] of a registry that serves the same
     * repositories. Plain http only where pulls may use it (loopback, insecure_registries), checked at the pull.
     */
    private Map<String, List<URI>> registryMirrors(RawValue raw) {
        String allowed = "use REGISTRY=URL, e.g. docker.io=https://mirror.example or docker.io=http://127.0.0.1:5000, "
                + "one mirror per entry, tried in the order given";
        return groupedByKey(raw, allowed, "REGISTRY=URL", (entry, registry, text) -> {
            int colon = registry.indexOf(':');
            String host = colon < 0 ? registry : registry.substring(0, colon);
            String problem = colon >= 0 ? AllowedHostEntry.portProblem(registry.substring(colon + 1)) : null;
            if (problem == null && !IPV4.matcher(host).matches()) {
                problem = AllowedHostEntry.problem(host);
            }
            if (problem != null || host.contains("*")) {
                throw invalid(raw, entry, "names the registry '" + registry + "', which is not HOST or HOST:PORT", allowed);
            }
            URI uri;
            try {
                uri = new URI(text);
            } catch (URISyntaxException e) {
                throw invalid(raw, entry, "has '" + text + "', which is not a URL", allowed);
            }
            if (!("https".equals(uri.getScheme()) || "http".equals(uri.getScheme())) || uri.getHost() == null) {
                throw invalid(raw, entry, "has '" + text + "', which is not an http or https URL with a host", allowed);
            }
            if (uri.getUserInfo() != null || uri.getQuery() != null || uri.getFragment() != null
                    || !(uri.getPath() == null || uri.getPath().isEmpty() || uri.getPath().equals("/"))) {
                throw invalid(raw, entry, "has a path, credentials, a query or a fragment; credentials come from the "
                        + "auth files, as for the registry itself", allowed);
            }
            return URI.create(uri.getScheme() + "://" + uri.getRawAuthority().toLowerCase(Locale.ROOT));
        });
    }

    private String seccompProfile(RawValue raw) {
        String allowed = "use default or the absolute path of an existing JSON seccomp profile";
        String text = text(raw, allowed);
        if (text.equals("default")) {
            return text;
        }
        Path path;
        try {
            path = Path.of(text);
        } catch (InvalidPathException e) {
            throw invalid(raw, text, "is not a path", allowed);
        }
        if (!path.isAbsolute()) {
            throw invalid(raw, text, "is neither default nor an absolute path", allowed);
        }
        if (!Files.exists(path)) {
            throw invalid(raw, text, "does not exist", allowed);
        }
        if (!Files.isRegularFile(path)) {
            throw invalid(raw, text, "is not a regular file", allowed);
        }
        return path.normalize().toString();
    }

    private HostIds user(RawValue raw) {
        String allowed = "use a UID or UID:GID above 0, e.g. 1000 or 1000:1000";
        String text = text(raw, allowed);
        HostIds ids = ids(raw, text, allowed);
        if (ids.uid() == 0) {
            throw invalid(raw, text, "is root; the agent is never root inside the cage, "
                    + "where root could undo the cage's own restrictions", allowed);
        }
        if (ids.gid() == 0) {
            throw invalid(raw, text, "has group 0, root's group, which owns files the agent must not write", allowed);
        }
        return ids;
    }

    /** Empty for the guess (the sudo user, else each path's owner); see {@link MountOwnership}. */
    private Optional<HostIds> mountOwner(RawValue raw) {
        String allowed = "leave it empty for the user who ran sudo (else each mounted path's owner), or give the UID or "
                + "UID:GID of the host user the cage works as in your mounts, above 0, e.g. 1000 or 1000:1000";
        if (raw.leftEmpty()) {
            return Optional.empty();
        }
        String text = text(raw, allowed);
        HostIds ids = ids(raw, text, allowed);
        if (ids.uid() == 0 || ids.gid() == 0) {
            throw invalid(raw, text, (ids.uid() == 0 ? "is root" : "has group 0, root's group") + "; what the cage writes "
                    + "never belongs to root, where a setuid program it left would be root's", allowed);
        }
        if (host.rootless()) {
            throw invalid(raw, text, "applies only when claude-cage runs as root; a rootless cage works in your mounts "
                    + "as you", "leave it empty, or run claude-cage with sudo");
        }
        return Optional.of(ids);
    }

    /** UID or UID:GID, the GID the UID when left out. */
    private static HostIds ids(RawValue raw, String text, String allowed) {
        Matcher matcher = USER.matcher(text);
        if (!matcher.matches()) {
            throw invalid(raw, text, "is not UID or UID:GID", allowed);
        }
        int uid = id(raw, text, matcher.group(1), allowed);
        int gid = matcher.group(2) == null ? uid : id(raw, text, matcher.group(2), allowed);
        return new HostIds(uid, gid);
    }

    private static int id(RawValue raw, String text, String digits, String allowed) {
        try {
            return Integer.parseInt(digits);
        } catch (NumberFormatException e) {
            throw invalid(raw, text, "has an ID above " + Integer.MAX_VALUE, allowed);
        }
    }

    /** Empty means the mode's own image: cli or desktop, as {@code claude-cage build} names them. */
    private String image(RawValue raw, Mode mode) {
        if (raw.leftEmpty()) {
            return (mode == null ? Mode.CLI : mode).yamlWord();
        }
        String allowed = "use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit, e.g. cli, "
                + "or leave it empty for the mode's image";
        String text = text(raw, allowed);
        if (!IMAGE.matcher(text).matches()) {
            throw invalid(raw, text, "is not an image name", allowed);
        }
        return text;
    }

    private String runtime(RawValue raw) {
        return oneOf(raw, RUNTIMES, "is not a supported runtime", "use runc, crun or runsc (gVisor)");
    }

    private String runscPlatform(RawValue raw) {
        String allowed = "use auto, ptrace or kvm (auto: kvm where claude-cage doctor found it working since the "
                + "last boot, else ptrace)";
        return oneOf(raw, RUNSC_PLATFORMS, "is not a gVisor platform claude-cage drives", allowed);
    }

    private Path rootfs(RawValue raw) {
        String allowed = "leave it empty to use the image, or give an existing directory";
        if (raw.leftEmpty()) {
            return null;
        }
        String text = text(raw, allowed);
        Path directory = realPath(raw, text, text, "", allowed);
        if (!Files.isDirectory(directory)) {
            throw invalid(raw, text, "is not a directory", allowed);
        }
        return directory;
    }

    /**
     * Each mount, its host path resolved and checked: a folder or regular file, outside the host's
     * system and claude-cage's state, and, run as root, owned by someone the cage may work as
     * ({@link MountOwnership}; skipped while user or mount_owner is itself wrong).
     */
    private List<MountSpec> mounts(RawValue raw, HostIds user, Optional<HostIds> mountOwner) {
        String allowed = "use HOST:CAGE[:ro|:rw] with an existing HOST path and an absolute, normalized CAGE path "
                + "outside /proc, /sys and /dev";
        Map<Path, String> refused = new LinkedHashMap<>(MountSources.SYSTEM_FOLDERS);
        host.stateFolders().forEach(folder -> refused.put(folder, "claude-cage's own state (images, sessions and "
                + "their policies)"));
        Set<String> targets = new HashSet<>();
        return eachItem(raw, allowed, entry -> {
            MountSpec written;
            try {
                written = MountSpec.parse(entry);
            } catch (IllegalArgumentException e) {
                throw invalid(raw, entry, e.getMessage(), allowed);
            }
            String source = written.source().toString();
            String subject = "has host path '" + source + "', which ";
            Path real = realPath(raw, entry, source, subject, allowed);
            String resolved = real.toString().equals(source) ? "" : " (it resolves to " + real + ")";
            String kindProblem = MountSources.kindProblem(attribute(raw, entry, real, "unix:mode", subject, allowed));
            if (kindProblem != null) {
                throw invalid(raw, entry, subject + kindProblem + resolved, MountSources.KIND_REMEDY);
            }
            String folderProblem = MountSources.folderProblem(real, refused, ConfigValidator::fileKey);
            if (folderProblem != null) {
                throw invalid(raw, entry, subject + folderProblem + resolved, MountSources.SYSTEM_REMEDY);
            }
            if (!targets.add(written.target())) {
                throw invalid(raw, entry, "mounts onto " + written.target() + " like an earlier entry", allowed);
            }
            if (!host.rootless() && user != null && mountOwner != null) {
                HostIds pathOwner = new HostIds(attribute(raw, entry, real, "unix:uid", subject, allowed),
                        attribute(raw, entry, real, "unix:gid", subject, allowed));
                MountOwnership.Decision decision = MountOwnership.decide(written.readOnly(),
                        MountOwnership.owner(mountOwner.orElse(null), host.sudoUser(), pathOwner), user);
                if (decision.outcome() == MountOwnership.Outcome.REFUSED) {
                    throw invalid(raw, entry, decision.problem(), decision.remedy());
                }
            }
            return new MountSpec(real, written.target(), written.readOnly());
        });
    }

    private static int attribute(RawValue raw, String shown, Path path, String attribute, String subject, String allowed) {
        try {
            return (Integer) Files.getAttribute(path, attribute);
        } catch (IOException e) {
            String reason = e instanceof FileSystemException fs && fs.getReason() != null ? fs.getReason() : e.toString();
            throw invalid(raw, shown, subject + "cannot be reached: " + reason, allowed);
        }
    }

    /** The identity of an existing file (device and inode), or null when there is none to reach. */
    private static Object fileKey(Path path) {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    private List<ProtectedPath> protectedPaths(RawValue raw) {
        String allowed = "use paths relative to the workspace such as .git/config or .vscode/ (a trailing '/' for a "
                + "folder), without '..'";
        Set<String> seen = new HashSet<>();
        return eachItem(raw, allowed, entry -> {
            ProtectedPath path;
            try {
                path = ProtectedPath.parse(entry);
            } catch (IllegalArgumentException e) {
                throw invalid(raw, entry, e.getMessage(), allowed);
            }
            if (!seen.add(path.relative())) {
                throw invalid(raw, entry, "is listed twice", allowed);
            }
            return path;
        });
    }

    private List<String> env(RawValue raw) {
        String allowed = "use KEY=VALUE, where KEY is letters, digits and '_' and does not start with a digit";
        return eachItem(raw, allowed, entry -> {
            if (!ENV_ENTRY.matcher(entry).matches()) {
                throw invalid(raw, entry, "is not KEY=VALUE", allowed);
            }
            return entry;
        });
    }

    private Map<String, List<String>> resolve(RawValue raw) {
        String allowed = "use NAME=ADDRESS, e.g. api.anthropic.com=10.213.200.2, one address per entry "
                + "(repeat the name for more)";
        return groupedByKey(raw, allowed, "NAME=ADDRESS", (entry, name, address) -> {
            String problem = AllowedHostEntry.problem(name);
            if (problem != null || name.contains("*") || name.contains(":")) {
                throw invalid(raw, entry, "has '" + name + "', which is not a plain host name", allowed);
            }
            if (ipLiteral(address) == null) {
                throw invalid(raw, entry, "has '" + address + "', which is not an IP address", allowed);
            }
            return address;
        });
    }

    private URI apiUpstream(RawValue raw) {
        String allowed = "use an http or https URL of a host, e.g. https://api.anthropic.com";
        String text = text(raw, allowed);
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw invalid(raw, text, "is not a URL", allowed);
        }
        if (!("https".equals(uri.getScheme()) || "http".equals(uri.getScheme())) || uri.getHost() == null) {
            throw invalid(raw, text, "is not an http or https URL with a host", allowed);
        }
        if (uri.getUserInfo() != null || uri.getQuery() != null || uri.getFragment() != null) {
            throw invalid(raw, text, "carries credentials, a query or a fragment", allowed);
        }
        return uri;
    }

    private static final Pattern GIT_USER = Pattern.compile("[A-Za-z0-9._-]+");

    private List<GitCredential> gitCredentials(RawValue raw) {
        String allowed = "use [USER@]HOST=command:WORDS (a host command that prints the token, e.g. "
                + "github.com=command:gh auth token) or [USER@]HOST=file:PATH (an absolute path), one per host";
        Set<String> hosts = new HashSet<>();
        return eachItem(raw, allowed, entry -> {
            KeyValue pair = keyValue(raw, entry, "HOST=SOURCE", allowed);
            String who = pair.key();
            String source = pair.value();
            int at = who.lastIndexOf('@');
            String user = at < 0 ? GitCredential.DEFAULT_USER : who.substring(0, at);
            String host = who.substring(at + 1).toLowerCase(Locale.ROOT);
            if (!GIT_USER.matcher(user).matches()) {
                throw invalid(raw, entry, "has user '" + user + "'; a user is letters, digits, '.', '_' and '-'", allowed);
            }
            if (AllowedHostEntry.problem(host) != null || host.contains("*") || host.contains(":")) {
                throw invalid(raw, entry, "has '" + host + "', which is not a plain host name", allowed);
            }
            if (!hosts.add(host)) {
                throw invalid(raw, entry, "names " + host + " a second time", allowed);
            }
            if (source.startsWith("command:")) {
                List<String> words = Arrays.stream(source.substring("command:".length()).strip().split("\\s+"))
                        .filter(word -> !word.isEmpty()).toList();
                if (words.isEmpty()) {
                    throw invalid(raw, entry, "has an empty command", allowed);
                }
                return new GitCredential(host, user, words, null);
            } else if (source.startsWith("file:")) {
                String path = source.substring("file:".length()).strip();
                if (!path.startsWith("/")) {
                    throw invalid(raw, entry, "has a relative token file path", allowed);
                }
                Path file = realPath(raw, entry, path, "has token file '" + path + "', which ", allowed);
                if (!Files.isRegularFile(file)) {
                    throw invalid(raw, entry, "has token file '" + path + "', which is not a regular file", allowed);
                }
                return new GitCredential(host, user, List.of(), file);
            } else {
                throw invalid(raw, entry, "has a source that is neither command:... nor file:...", allowed);
            }
        });
    }

    private Path gitCaCertificates(RawValue raw) {
        String allowed = "leave it empty, or give the absolute path of a PEM file of CA certificates";
        if (raw.leftEmpty()) {
            return null;
        }
        String text = text(raw, allowed);
        if (!text.startsWith("/")) {
            throw invalid(raw, text, "is not an absolute path", allowed);
        }
        Path file = realPath(raw, text, text, "", allowed);
        if (!Files.isRegularFile(file)) {
            throw invalid(raw, text, "is not a regular file", allowed);
        }
        return file;
    }

    /** A repository's path on a forge: OWNER/NAME, or deeper for GitLab's groups; '*' in a glob. */
    private static final Pattern REPOSITORY_GLOB = Pattern.compile("[A-Za-z0-9._*-]+(/[A-Za-z0-9._*-]+)*");

    private List<String> repositoryGlobs(RawValue raw) {
        String allowed = "use OWNER/NAME globs of the git_credentials hosts' repositories, as in their URLs without .git, "
                + "'*' for any characters, e.g. me/app, me/* or * for every repository";
        return eachItem(raw, allowed, entry -> {
            if (entry.contains("://") || entry.startsWith("/")) {
                throw invalid(raw, entry, "is a URL or an absolute path, not OWNER/NAME", allowed);
            }
            if (!REPOSITORY_GLOB.matcher(entry).matches()) {
                throw invalid(raw, entry, "holds a character other than letters, digits, '.', '_', '-', '*' and inner '/'",
                        allowed);
            }
            if (Arrays.stream(entry.split("/")).anyMatch(part -> part.equals(".") || part.equals(".."))) {
                throw invalid(raw, entry, "has a '.' or '..' part", allowed);
            }
            if (entry.endsWith(".git")) {
                throw invalid(raw, entry, "ends in .git; write the repository without it (it matches both URLs)", allowed);
            }
            return entry;
        });
    }

    /** What git's check-ref-format refuses anywhere in a ref name, less '*', which a glob may hold. */
    private static final Pattern REF_GLOB_CHARACTERS = Pattern.compile("[\\x21-\\x7e&&[^~^:?\\[\\\\]]+");

    private List<String> refGlobs(RawValue raw) {
        String allowed = "use full ref names or globs with '*' for any characters, e.g. refs/heads/claude/* or "
                + "refs/heads/main";
        return eachItem(raw, allowed, entry -> {
            if (!entry.startsWith("refs/")) {
                String advice = entry.contains("/") || entry.contains("*") ? "" : "; a branch is refs/heads/" + entry;
                throw invalid(raw, entry, "does not start with refs/" + advice, allowed);
            }
            if (!REF_GLOB_CHARACTERS.matcher(entry).matches() || entry.contains("..") || entry.contains("//")
                    || entry.contains("@{") || entry.endsWith("/") || entry.endsWith(".")) {
                throw invalid(raw, entry, "is not a ref name: it holds a space, a control character, one of ~^:?[\\, "
                        + "'..', '//' or '@{', or ends in '/' or '.'", allowed);
            }
            return entry;
        });
    }

    private List<String> sshAgentHosts(RawValue raw) {
        String allowed = "use plain host names, e.g. github.com, as a YAML list or separated by commas";
        return eachItem(raw, allowed, entry -> {
            String host = entry.toLowerCase(Locale.ROOT);
            if (AllowedHostEntry.problem(host) != null || host.contains("*") || host.contains(":")) {
                throw invalid(raw, entry, "is not a plain host name", allowed);
            }
            return host;
        });
    }

    private List<Path> sshKnownHosts(RawValue raw) {
        String allowed = "use absolute paths or paths starting with ~/, as a YAML list or separated by commas";
        return eachItem(raw, allowed, entry -> {
            String expanded = entry.startsWith("~/") ? System.getProperty("user.home") + entry.substring(1) : entry;
            Path path;
            try {
                path = Path.of(expanded);
            } catch (InvalidPathException e) {
                throw invalid(raw, entry, "is not a path", allowed);
            }
            if (!path.isAbsolute()) {
                throw invalid(raw, entry, "is not an absolute path", allowed);
            }
            return path.normalize();
        });
    }

    private UsernsPool usernsPool(RawValue raw) {
        String allowed = "leave it empty for the subordinate ids of the claude-cage account (scripts/install-deps.sh makes "
                + "it), give START:COUNT for a range of uids and the same gids that belong to nobody on this host (COUNT at "
                + "least " + USERNS_BLOCK + ", from " + FIRST_USERNS_POOL_ID + " up), or " + UsernsPool.OFF_WORD
                + " to run every cage as the host ids of its user";
        if (raw.leftEmpty()) {
            return UsernsPool.ACCOUNT;
        }
        String text = text(raw, allowed);
        if (text.equals(UsernsPool.OFF_WORD)) {
            return UsernsPool.OFF;
        }
        String[] fields = text.split(":", -1);
        if (fields.length != 2 || !fields[0].matches("[0-9]{1,10}") || !fields[1].matches("[0-9]{1,10}")) {
            throw invalid(raw, text, "is not START:COUNT", allowed);
        }
        long start = Long.parseLong(fields[0]);
        long count = Long.parseLong(fields[1]);
        if (start < FIRST_USERNS_POOL_ID) {
            throw invalid(raw, text, "starts below " + FIRST_USERNS_POOL_ID + ", among the ids of host accounts and "
                    + "of the cages' own users", allowed);
        }
        if (count < USERNS_BLOCK) {
            throw invalid(raw, text, "has fewer than the " + USERNS_BLOCK + " ids one cage needs", allowed);
        }
        if (start + count - 1 > LAST_ID) {
            throw invalid(raw, text, "goes past " + LAST_ID + ", the last id the kernel takes", allowed);
        }
        return UsernsPool.range(start, count);
    }

    private String networkPool(RawValue raw) {
        String allowed = "use an IPv4 prefix inside 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10, "
                + "no longer than /" + LARGEST_POOL4_PREFIX + ", e.g. 10.213.0.0/16";
        String text = text(raw, allowed);
        InetAddress network = prefixAddress(raw, text, allowed, 4, LARGEST_POOL4_PREFIX);
        byte[] bytes = network.getAddress();
        int first = bytes[0] & 0xff;
        int second = bytes[1] & 0xff;
        boolean privateRange = first == 10 || (first == 172 && second >= 16 && second < 32)
                || (first == 192 && second == 168) || (first == 100 && second >= 64 && second < 128);
        if (!privateRange) {
            throw invalid(raw, text, "is not a private range: cages would shadow someone else's addresses", allowed);
        }
        return text;
    }

    private String networkPool6(RawValue raw) {
        String allowed = "use an IPv6 unique local prefix (inside fc00::/7) no longer than /" + LARGEST_POOL6_PREFIX
                + ", e.g. fd63:6167:6500::/48";
        String text = text(raw, allowed);
        InetAddress network = prefixAddress(raw, text, allowed, 16, LARGEST_POOL6_PREFIX);
        if ((network.getAddress()[0] & 0xfe) != 0xfc) {
            throw invalid(raw, text, "is not a unique local (fc00::/7) prefix", allowed);
        }
        return text;
    }

    /** The network address of ADDRESS/LENGTH, checked for family, length and host bits. */
    private static InetAddress prefixAddress(RawValue raw, String text, String allowed, int addressBytes, int longest) {
        int slash = text.indexOf('/');
        InetAddress address = slash < 0 ? null : ipLiteral(text.substring(0, slash));
        String length = slash < 0 ? "" : text.substring(slash + 1);
        if (address == null || address.getAddress().length != addressBytes || !NUMERIC_LABEL.matcher(length).matches()
                || length.length() > 3) {
            throw invalid(raw, text, "is not an " + (addressBytes == 4 ? "IPv4" : "IPv6") + " prefix", allowed);
        }
        int bits = Integer.parseInt(length);
        if (bits > longest) {
            throw invalid(raw, text, "is too small a pool", allowed);
        }
        byte[] bytes = address.getAddress();
        for (int bit = bits; bit < addressBytes * 8; bit++) {
            if ((bytes[bit / 8] & (0x80 >>> (bit % 8))) != 0) {
                throw invalid(raw, text, "has host bits set after /" + bits, allowed);
            }
        }
        return address;
    }

    /** The address for an IP literal, or null: never a DNS lookup. */
    private static InetAddress ipLiteral(String text) {
        if (!IPV4.matcher(text).matches() && !IPV6_LITERAL_CANDIDATE.matcher(text).matches()) {
            return null;
        }
        try {
            return InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** The real path of an existing file, relative paths taken from the working directory. */
    private Path realPath(RawValue raw, String shown, String pathText, String subject, String allowed) {
        try {
            return workingDir.resolve(pathText).toRealPath();
        } catch (InvalidPathException e) {
            throw invalid(raw, shown, subject + "is not a path", allowed);
        } catch (NoSuchFileException e) {
            Path looked = workingDir.resolve(pathText).normalize();
            String where = looked.toString().equals(pathText) ? "" : " (" + looked + ")";
            throw invalid(raw, shown, subject + "does not exist" + where, allowed);
        } catch (IOException e) {
            String reason = e instanceof FileSystemException fs && fs.getReason() != null ? fs.getReason() : e.toString();
            throw invalid(raw, shown, subject + "cannot be reached: " + reason, allowed);
        }
    }

    /** The single value of a key, or an error naming what it is instead. */
    /** The value of {@code type} that {@code text} spells. */
    private static <E extends Enum<E> & YamlWord> E word(RawValue raw, String text, Class<E> type, String problem,
                                                          String allowed) {
        return YamlWord.parse(type, text).orElseThrow(() -> invalid(raw, text, problem, allowed));
    }

    /** The text, one of {@code words}. */
    private static String oneOf(RawValue raw, List<String> words, String problem, String allowed) {
        String text = text(raw, allowed);
        if (!words.contains(text)) {
            throw invalid(raw, text, problem, allowed);
        }
        return text;
    }

    private static String text(RawValue raw, String allowed) {
        return switch (raw.shape()) {
            case TEXT -> raw.text().strip();
            case EMPTY -> throw invalid(raw, "", "is empty", allowed);
            case LIST -> throw invalid(raw, "[" + String.join(", ", raw.items()) + "]", "is a list, not a single value", allowed);
            case STRUCTURE -> throw notAllowedHere(raw, allowed);
        };
    }

    /** The items of a list key: a YAML list, a repeated flag, or a comma-separated string. */
    /** The entries of a list value, each made an item by {@code check}, which throws on a bad entry. */
    private static <T> List<T> eachItem(RawValue raw, String allowed, Function<String, T> check) {
        return items(raw, allowed).stream().map(check).toList();
    }

    private static List<String> items(RawValue raw, String allowed) {
        return switch (raw.shape()) {
            case LIST -> raw.items().stream().map(String::strip).toList();
            case EMPTY -> List.of();
            case TEXT -> raw.text().isBlank() ? List.of()
                    : Arrays.stream(raw.text().split(",", -1)).map(String::strip).toList();
            case STRUCTURE -> throw notAllowedHere(raw, allowed);
        };
    }

    private record KeyValue(String key, String value) {
    }

    private interface PairCheck<T> {
        /** The item {@code value} makes, given its entry and its key; throws on a bad one. */
        T check(String entry, String key, String value);
    }

    /**
     * The entries of a KEY=VALUE list value ({@code form} names both), their values made items by {@code check} and
     * grouped by key, in order; keys in lower case.
     */
    private static <T> Map<String, List<T>> groupedByKey(RawValue raw, String allowed, String form, PairCheck<T> check) {
        Map<String, List<T>> grouped = new LinkedHashMap<>();
        for (String entry : items(raw, allowed)) {
            KeyValue pair = keyValue(raw, entry, form, allowed);
            String key = pair.key().toLowerCase(Locale.ROOT);
            grouped.computeIfAbsent(key, k -> new ArrayList<>()).add(check.check(entry, key, pair.value()));
        }
        return grouped;
    }

    /** An entry written KEY=VALUE ({@code form} names both), each side stripped; the key is not empty. */
    private static KeyValue keyValue(RawValue raw, String entry, String form, String allowed) {
        int equals = entry.indexOf('=');
        if (equals <= 0) {
            throw invalid(raw, entry, "is not " + form, allowed);
        }
        return new KeyValue(entry.substring(0, equals).strip(), entry.substring(equals + 1).strip());
    }

    private static UserInputException notAllowedHere(RawValue raw, String allowed) {
        return new UserInputException(raw.key().yamlName() + ": " + raw.text() + " is not allowed here (from "
                + raw.where() + "); " + allowed);
    }

    private static UserInputException invalid(RawValue raw, String value, String problem, String allowed) {
        return new UserInputException(raw.key().yamlName() + ": '" + value + "' " + problem
                + " (from " + raw.where() + "); " + allowed);
    }
}
