package dev.claudecage.config;

import dev.claudecage.UserInputException;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Builds the effective configuration from its layers, each replacing whole values of the one
 * before: the built-in defaults (config/default.yaml, built into the jar as code: {@link BuiltInDefaults}), the system file, the
 * user's file, the user's file's section for the project folder the command runs in,
 * CLAUDE_CAGE_* environment variables and flags. Missing files are skipped; unreadable ones,
 * unknown keys, unknown CLAUDE_CAGE_* variables and bad values are errors.
 *
 * <p>The project section is the one whose folder is the working directory (links resolved) or the
 * nearest folder above it, so that a command run anywhere in a repository gets the repository's
 * settings. It lives in the user's own file, never in the project: a file in the workspace would
 * be the agent's to rewrite, and with it the policy of its next cage.
 */
public final class ConfigLoader {

    /** The origin of values that nobody overrode. */
    public static final String BUILT_IN_DEFAULT = "built-in default";

    /** CLAUDE_CAGE_* variables that are not config keys: the launcher and the CLI read them. */
    public static final Set<String> RESERVED_ENVIRONMENT =
            Set.of("CLAUDE_CAGE_DEBUG", "CLAUDE_CAGE_JAVA_OPTS", "CLAUDE_CAGE_JAR");

    public static final Path SYSTEM_FILE = Path.of("/etc/claude-cage/config.yaml");

    private static final Path USER_FILE_IN_CONFIG_HOME = Path.of("claude-cage", "config.yaml");

    private final Path systemFile;
    private final Path userFile;
    private final Map<String, String> environment;
    private final Path workingDir;
    private final ConfigValidator validator;

    /**
     * @param workingDir the directory that relative host paths in mounts and rootfs start from
     */
    public ConfigLoader(Path systemFile, Path userFile, Map<String, String> environment, HostFacts host,
            Path workingDir) {
        this.systemFile = systemFile;
        this.userFile = userFile;
        this.environment = Map.copyOf(environment);
        this.workingDir = workingDir.toAbsolutePath();
        this.validator = new ConfigValidator(host, workingDir.toAbsolutePath());
    }

    /** The real files, environment, CPU count and working directory of this process. */
    public static ConfigLoader forThisHost() {
        Map<String, String> environment = System.getenv();
        return new ConfigLoader(SYSTEM_FILE, userFile(environment), environment, HostFacts.current(),
                Path.of("").toAbsolutePath());
    }

    /** $XDG_CONFIG_HOME/claude-cage/config.yaml, else ~/.config/claude-cage/config.yaml. */
    static Path userFile(Map<String, String> environment) {
        String configHome = environment.get("XDG_CONFIG_HOME");
        // The XDG spec says to ignore a relative XDG_CONFIG_HOME.
        if (configHome != null && Path.of(configHome).isAbsolute()) {
            return Path.of(configHome).resolve(USER_FILE_IN_CONFIG_HOME);
        }
        String home = environment.getOrDefault("HOME", System.getProperty("user.home"));
        return Path.of(home, ".config").resolve(USER_FILE_IN_CONFIG_HOME);
    }

    /** The user's file: the one `claude-cage init` writes project sections into. */
    public Path userFile() {
        return userFile;
    }

    /**
     * The checked configuration with the origin of each value.
     *
     * @param flags YAML key to the flag's value, a String or, for repeated flags, a List of Strings;
     *              only the flags the user gave
     * @throws UserInputException naming every bad value and where it came from
     */
    public EffectiveConfig load(Map<String, Object> flags) {
        return load(flags, fileLayer(userFile, false, true));
    }

    private EffectiveConfig load(Map<String, Object> flags, YamlLayer.Document user) {
        checkEnvironmentNames();
        Map<ConfigKey, RawValue> values = builtInDefaults();
        values.putAll(fileLayer(systemFile, false, false).values());
        values.putAll(user.values());
        Optional<Path> project = projectFor(workingDirectory(), user.projects().keySet());
        project.ifPresent(folder -> values.putAll(user.projects().get(folder)));
        values.putAll(environmentLayer());
        values.putAll(flagLayer(flags));
        CageConfig config = validator.validate(values);
        checkPolicyOutOfReach(config, values.get(ConfigKey.MOUNTS));
        Map<String, String> origins = new LinkedHashMap<>();
        values.forEach((key, raw) -> origins.put(key.yamlName(), raw.origin()));
        Map<String, String> presets = new LinkedHashMap<>();
        ConfigValidator.expandAllowedHosts(values.get(ConfigKey.ALLOWED_HOSTS)).forEach((host, preset) -> {
            if (preset != null) {
                presets.put(host, preset);
            }
        });
        return new EffectiveConfig(config, origins, presets, project);
    }

    /**
     * The files that set a cage's policy must stay out of the cage's reach: through a writable mount that holds
     * the user's file (a home folder mounted whole), the agent could rewrite the policy of its next cage, its
     * allowed_hosts and api_upstream (where the gateway sends the user's key) included. A file not there yet
     * counts too, as the cage could create it.
     */
    private void checkPolicyOutOfReach(CageConfig config, RawValue mounts) {
        Path file = realLocation(userFile);
        for (MountSpec mount : config.mounts()) {
            if (!mount.readOnly() && file.startsWith(mount.source())) {
                throw new UserInputException("mounts: '" + mount.format() + "' makes " + file + " writable in the "
                        + "cage (from " + mounts.where() + "): that file sets the policy of every cage you start, so "
                        + "the agent could widen its own next time; mount it read-only (:ro) or a folder that does not "
                        + "hold it, or keep your configuration elsewhere (XDG_CONFIG_HOME)");
            }
        }
    }

    /** The path with its links resolved as far as it exists; the rest as written. */
    private static Path realLocation(Path path) {
        Path absolute = path.toAbsolutePath().normalize();
        for (Path existing = absolute; existing != null; existing = existing.getParent()) {
            try {
                return existing.toRealPath().resolve(existing.relativize(absolute));
            } catch (IOException e) {
                // Not there yet: try its parent.
            }
        }
        return absolute;
    }

    /**
     * Sets the section of the user's file for the working directory to {@code settings}, as `claude-cage init`
     * does, once a command here would accept the file as it would be: the rest of the file stays as written, and a
     * setting that would fail (a bad mount, a mount that holds this very file) fails here, with nothing written.
     * A user file that is a link is written where the link leads.
     *
     * @return the file written
     */
    public Path saveProjectSection(Map<ConfigKey, Object> settings) throws IOException {
        Path target = Files.isSymbolicLink(userFile) ? userFile.toRealPath() : userFile;
        String before;
        try {
            before = Files.readString(target);
        } catch (NoSuchFileException e) {
            before = "";
        }
        String after = ProjectSections.edited(before, target, workingDirectory(), settings);
        load(Map.of(), YamlLayer.parse(after, userFile.toString(), true));
        ProjectSections.replace(target, after);
        return target;
    }

    /**
     * Checks one file on its own over the built-in defaults, as `config --validate` does; each of its
     * project sections over the file's own keys.
     *
     * @throws UserInputException when the file is missing, unreadable, malformed or holds a bad value
     */
    public void validateFile(Path file) {
        Map<ConfigKey, RawValue> values = builtInDefaults();
        YamlLayer.Document document = fileLayer(file, true, true);
        values.putAll(document.values());
        validator.validate(values);
        for (Map<ConfigKey, RawValue> section : document.projects().values()) {
            Map<ConfigKey, RawValue> withSection = new EnumMap<>(values);
            withSection.putAll(section);
            validator.validate(withSection);
        }
    }

    /**
     * The section that applies in {@code directory} (a real path): its own, else the nearest folder above it that
     * has one. A section's folder matches as written or with its links resolved.
     */
    static Optional<Path> projectFor(Path directory, Collection<Path> projects) {
        return projects.stream().filter(folder -> directory.startsWith(folder) || directory.startsWith(realPath(folder)))
                .max(Comparator.comparingInt(folder -> realPath(folder).getNameCount()));
    }

    private static Path realPath(Path folder) {
        try {
            return folder.toRealPath();
        } catch (IOException e) {
            return folder;
        }
    }

    /** The working directory with its links resolved, as `init` writes it; as given when it is gone. */
    public Path workingDirectory() {
        return realPath(workingDir.normalize());
    }

    /** The built-in defaults as a layer of its own to put the others on: a fresh map for each load to change. */
    private static Map<ConfigKey, RawValue> builtInDefaults() {
        return BuiltInDefaults.generated().values();
    }

    private static YamlLayer.Document fileLayer(Path file, boolean required, boolean projectsAllowed) {
        String document;
        try {
            document = Files.readString(file);
        } catch (NoSuchFileException e) {
            if (required) {
                throw new UserInputException(file + " does not exist");
            }
            return new YamlLayer.Document(Map.of(), Map.of());
        } catch (MalformedInputException e) {
            throw new UserInputException("cannot read " + file + ": it is not UTF-8 text");
        } catch (IOException e) {
            String reason = e instanceof FileSystemException fs && fs.getReason() != null ? fs.getReason() : e.toString();
            throw new UserInputException("cannot read " + file + ": " + reason, "fix its permissions, or remove it");
        }
        return YamlLayer.parse(document, file.toString(), projectsAllowed);
    }

    private Map<ConfigKey, RawValue> environmentLayer() {
        Map<ConfigKey, RawValue> values = new EnumMap<>(ConfigKey.class);
        for (ConfigKey key : ConfigKey.values()) {
            String value = environment.get(key.environmentName());
            if (value != null) {
                values.put(key, RawValue.text(key, value, "environment " + key.environmentName(), null));
            }
        }
        return values;
    }

    /** A misspelt variable would otherwise be ignored without a word, leaving a weaker cage than asked for. */
    private void checkEnvironmentNames() {
        List<String> known = Stream.concat(Stream.of(ConfigKey.values()).map(ConfigKey::environmentName),
                new TreeSet<>(RESERVED_ENVIRONMENT).stream()).toList();
        List<String> problems = new ArrayList<>();
        for (String name : new TreeSet<>(environment.keySet())) {
            if (name.startsWith(ConfigKey.ENVIRONMENT_PREFIX) && !known.contains(name)) {
                String advice = Suggestions.closest(name, known)
                        .map(suggestion -> "did you mean " + suggestion + "?")
                        .orElse("claude-cage reads " + String.join(", ", known));
                problems.add("unknown environment variable " + name + "; " + advice);
            }
        }
        if (!problems.isEmpty()) {
            throw ConfigValidator.combined(problems);
        }
    }

    private static Map<ConfigKey, RawValue> flagLayer(Map<String, Object> flags) {
        Map<ConfigKey, RawValue> values = new EnumMap<>(ConfigKey.class);
        flags.forEach((name, value) -> {
            ConfigKey key = ConfigKey.fromYamlName(name)
                    .orElseThrow(() -> new IllegalArgumentException("not a config key: " + name));
            String origin = "flag " + key.flagName();
            if (value instanceof String text) {
                values.put(key, RawValue.text(key, text, origin, null));
            } else if (value instanceof List<?> list && list.stream().allMatch(String.class::isInstance)) {
                values.put(key, RawValue.list(key, list.stream().map(String.class::cast).toList(), origin, null));
            } else {
                throw new IllegalArgumentException("flag value for " + name + " is neither a String nor a List of Strings: " + value);
            }
        });
        return values;
    }
}
