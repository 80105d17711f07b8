package dev.claudecage.config;

import dev.claudecage.UserInputException;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.representer.Representer;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Writes a project's section into the user's config file, as {@code claude-cage init} does: under
 * {@code projects:}, keyed by the folder, added or replacing the one there. The rest of the file,
 * comments included, stays as the user wrote it; the result is read back and compared before it
 * replaces the file, so a file this cannot edit faithfully is left alone.
 */
public final class ProjectSections {

    private ProjectSections() {
    }

    /** Where init mounts the project folder. */
    public static final String WORKSPACE = "/workspace";

    /**
     * What init proposes for {@code folder}: the allowed_hosts that apply there now (a preset's hosts as the preset)
     * and then {@code entries}, without repeats; and the mounts that apply now, plus the folder at /workspace unless
     * something is mounted there already.
     */
    public static Map<ConfigKey, Object> proposal(EffectiveConfig current, Path folder, List<String> entries) {
        Set<String> hosts = new LinkedHashSet<>();
        for (String host : current.config().allowedHosts()) {
            hosts.add(current.allowedHostPresets().getOrDefault(host, host));
        }
        hosts.addAll(entries);
        List<String> mounts = new ArrayList<>(current.config().mounts().stream().map(MountSpec::format).toList());
        if (current.config().mounts().stream().noneMatch(mount -> mount.target().equals(WORKSPACE))) {
            mounts.add(folder + ":" + WORKSPACE);
        }
        Map<ConfigKey, Object> settings = new LinkedHashMap<>();
        settings.put(ConfigKey.ALLOWED_HOSTS, List.copyOf(hosts));
        settings.put(ConfigKey.MOUNTS, List.copyOf(mounts));
        return settings;
    }

    /**
     * The document with {@code folder}'s section set to {@code settings}.
     *
     * @param settings each key with a String or a List of Strings, in the order to write them
     * @throws UserInputException when the document is not a mapping, or its projects are not one
     */
    public static String withSection(String document, String origin, Path folder, Map<ConfigKey, Object> settings) {
        Yaml yaml = yaml();
        Map<String, Object> section = new LinkedHashMap<>();
        settings.forEach((key, value) -> section.put(key.yamlName(), value));
        Node root = yaml.compose(new StringReader(document));
        if (root == null || root instanceof MappingNode empty && empty.getValue().isEmpty()) {
            // No keys (empty, comments alone, {}): the section follows the comments.
            String projects = serialize(yaml, yaml.represent(Map.of(YamlLayer.PROJECTS, Map.of(folder.toString(), section))));
            String comments = document.lines().filter(line -> line.strip().startsWith("#"))
                    .map(line -> line + "\n").collect(Collectors.joining());
            return comments.isEmpty() ? projects : comments + "\n" + projects;
        }
        if (!(root instanceof MappingNode mapping)) {
            throw new UserInputException("the top level of " + origin + " is not a mapping of keys to values; "
                    + "fix it (claude-cage config --validate " + origin + ") and run init again");
        }
        Node sectionNode = yaml.represent(section);
        NodeTuple projects = mapping.getValue().stream()
                .filter(tuple -> tuple.getKeyNode() instanceof ScalarNode key && key.getValue().equals(YamlLayer.PROJECTS))
                .findFirst().orElse(null);
        if (projects == null) {
            List<NodeTuple> keys = new ArrayList<>(mapping.getValue());
            keys.add(new NodeTuple(yaml.represent(YamlLayer.PROJECTS), yaml.represent(Map.of(folder.toString(), section))));
            mapping.setValue(keys);
        } else if (projects.getValueNode() instanceof MappingNode folders) {
            folders.setFlowStyle(DumperOptions.FlowStyle.BLOCK);
            List<NodeTuple> entries = new ArrayList<>(folders.getValue());
            int index = indexOf(entries, folder);
            NodeTuple entry = new NodeTuple(yaml.represent(folder.toString()), sectionNode);
            if (index < 0) {
                entries.add(entry);
            } else {
                entries.set(index, entry);
            }
            folders.setValue(entries);
        } else if (projects.getValueNode() instanceof ScalarNode empty && empty.getTag().equals(Tag.NULL)) {
            List<NodeTuple> keys = new ArrayList<>(mapping.getValue());
            keys.set(keys.indexOf(projects), new NodeTuple(projects.getKeyNode(),
                    yaml.represent(Map.of(folder.toString(), section))));
            mapping.setValue(keys);
        } else {
            throw new UserInputException("'" + YamlLayer.PROJECTS + "' in " + origin + " is not a mapping of project "
                    + "folders to their settings; fix it and run init again");
        }
        return serialize(yaml, root);
    }

    /**
     * {@link #withSection}, checked: the new text must read back as the old one plus that section, else it is
     * refused, so that a file this cannot edit faithfully is left as it is.
     */
    static String edited(String before, Path file, Path folder, Map<ConfigKey, Object> settings) {
        String after = withSection(before, file.toString(), folder, settings);
        checkFaithful(before, after, file, folder, settings);
        return after;
    }

    /** Replaces {@code file} (created with its folder when missing) with {@code text} in one rename, keeping its permissions. */
    static void replace(Path file, String text) throws IOException {
        Path parent = Objects.requireNonNull(file.toAbsolutePath().getParent(), "the folder of " + file);
        Files.createDirectories(parent);
        Path temporary = Files.createTempFile(parent, "." + file.getFileName() + ".", ".new");
        try {
            Files.setPosixFilePermissions(temporary, Files.exists(file, LinkOption.NOFOLLOW_LINKS)
                    ? Files.getPosixFilePermissions(file) : PosixFilePermissions.fromString("rw-r--r--"));
            Files.writeString(temporary, text);
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    /** The edited document must say what the old one said, and for the folder exactly the settings. */
    private static void checkFaithful(String before, String after, Path file, Path folder, Map<ConfigKey, Object> settings) {
        YamlLayer.Document old = YamlLayer.parse(before, file.toString(), true);
        YamlLayer.Document edited = YamlLayer.parse(after, file.toString(), true);
        Map<Path, Map<ConfigKey, List<String>>> expected = new LinkedHashMap<>();
        old.projects().forEach((project, values) -> expected.put(project, comparable(values)));
        Map<ConfigKey, List<String>> wanted = new LinkedHashMap<>();
        settings.forEach((key, value) -> wanted.put(key, value instanceof List<?> list
                ? list.stream().map(String::valueOf).toList() : List.of(String.valueOf(value))));
        expected.put(folder.normalize(), wanted);
        Map<Path, Map<ConfigKey, List<String>>> actual = new LinkedHashMap<>();
        edited.projects().forEach((project, values) -> actual.put(project, comparable(values)));
        if (!comparable(old.values()).equals(comparable(edited.values())) || !expected.equals(actual)) {
            throw new UserInputException("cannot add the section to " + file + " without changing what else it says; "
                    + "add it by hand (claude-cage init --dry-run prints it)");
        }
    }

    /** Values without their line numbers: a list or a single text. */
    private static Map<ConfigKey, List<String>> comparable(Map<ConfigKey, RawValue> values) {
        Map<ConfigKey, List<String>> result = new LinkedHashMap<>();
        values.forEach((key, raw) -> result.put(key, switch (raw.shape()) {
            case LIST -> raw.items();
            case TEXT, STRUCTURE -> List.of(raw.text());
            case EMPTY -> List.of();
        }));
        return Map.copyOf(result);
    }

    private static int indexOf(List<NodeTuple> entries, Path folder) {
        for (int i = 0; i < entries.size(); i++) {
            if (entries.get(i).getKeyNode() instanceof ScalarNode key && key.getValue().startsWith("/")
                    && Path.of(key.getValue()).normalize().equals(folder.normalize())) {
                return i;
            }
        }
        return -1;
    }

    private static String serialize(Yaml yaml, Node node) {
        StringWriter out = new StringWriter();
        yaml.serialize(node, out);
        return out.toString();
    }

    /** Safe loading (nodes only, never objects), block style, list items indented under their key, comments kept. */
    private static Yaml yaml() {
        LoaderOptions loading = new LoaderOptions();
        loading.setProcessComments(true);
        DumperOptions dumping = new DumperOptions();
        dumping.setProcessComments(true);
        dumping.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        dumping.setIndent(2);
        dumping.setIndicatorIndent(2);
        dumping.setIndentWithIndicator(true);
        return new Yaml(new SafeConstructor(loading), new Representer(dumping), dumping, loading);
    }
}
