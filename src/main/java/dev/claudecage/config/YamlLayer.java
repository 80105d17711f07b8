package dev.claudecage.config;

import dev.claudecage.UserInputException;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.composer.Composer;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.parser.ParserImpl;
import org.yaml.snakeyaml.reader.StreamReader;
import org.yaml.snakeyaml.resolver.Resolver;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Reads one YAML config file into raw values with their line numbers. Only the node tree is
 * composed, never Java objects, so a document cannot make snakeyaml construct anything; values
 * are kept as text and the checks that follow treat every layer alike.
 */
final class YamlLayer {

    // Tags that plain values resolve to; an explicit tag such as !!binary or !!python/object asks for
    // a conversion that no key wants.
    private static final Set<Tag> PLAIN_TAGS = Set.of(Tag.STR, Tag.INT, Tag.FLOAT, Tag.BOOL, Tag.NULL, Tag.TIMESTAMP);

    private YamlLayer() {
    }

    /** The key under which the user's file keeps a section of settings per project folder. */
    static final String PROJECTS = "projects";

    /**
     * One file: the keys it sets at its top level, and its sections for project folders.
     *
     * @param projects each project folder (absolute, normalized) with the keys its section sets
     */
    record Document(Map<ConfigKey, RawValue> values, Map<Path, Map<ConfigKey, RawValue>> projects) {
        Document {
            values = Map.copyOf(values);
            projects = Map.copyOf(projects);
        }
    }

    /** The keys set in the document; an empty document sets none. A projects section is refused. */
    static Map<ConfigKey, RawValue> parse(String document, String origin) {
        Map<ConfigKey, RawValue> values = new EnumMap<>(ConfigKey.class);
        values.putAll(parse(document, origin, false).values());
        return values;
    }

    /**
     * The keys set in the document and, where {@code projectsAllowed}, its projects sections, each of whose
     * values has the origin "ORIGIN (project FOLDER)".
     */
    static Document parse(String document, String origin, boolean projectsAllowed) {
        Node root = compose(document, origin);
        if (root == null) {
            return new Document(Map.of(), Map.of());
        }
        if (!(root instanceof MappingNode mapping)) {
            throw new UserInputException("the top level of " + origin + " (line " + line(root)
                    + ") is " + describe(root) + ", not a mapping of keys to values such as 'memory: 4g'");
        }
        Map<Path, Map<ConfigKey, RawValue>> projects = new LinkedHashMap<>();
        List<NodeTuple> keys = new ArrayList<>();
        Integer projectsLine = null;
        for (NodeTuple tuple : mapping.getValue()) {
            if (tuple.getKeyNode() instanceof ScalarNode scalar && scalar.getValue().equals(PROJECTS)) {
                if (!projectsAllowed) {
                    throw new UserInputException("'" + PROJECTS + "' in " + origin + " (line " + line(scalar)
                            + ") is not allowed there: sections for project folders belong in your own file, "
                            + "~/.config/claude-cage/config.yaml, where claude-cage init writes them");
                }
                if (projectsLine != null) {
                    throw new UserInputException("key '" + PROJECTS + "' appears twice in " + origin + " (lines "
                            + projectsLine + " and " + line(scalar) + "); keep one");
                }
                projectsLine = line(scalar);
                projects.putAll(projects(tuple.getValueNode(), origin));
            } else {
                keys.add(tuple);
            }
        }
        return new Document(keyValues(keys, origin), projects);
    }

    private static Map<Path, Map<ConfigKey, RawValue>> projects(Node node, String origin) {
        Map<Path, Map<ConfigKey, RawValue>> projects = new LinkedHashMap<>();
        if (node instanceof ScalarNode scalar && scalar.getTag().equals(Tag.NULL)) {
            return projects;
        }
        if (!(node instanceof MappingNode mapping)) {
            throw new UserInputException("'" + PROJECTS + "' in " + origin + " (line " + line(node) + ") is "
                    + describe(node) + ", not a mapping of project folders to their settings, such as\n"
                    + "  projects:\n    /home/you/src/app:\n      allowed_hosts: [api.anthropic.com, preset:npm]");
        }
        for (NodeTuple tuple : mapping.getValue()) {
            Node keyNode = tuple.getKeyNode();
            String where = origin + " (line " + line(keyNode) + ")";
            if (!(keyNode instanceof ScalarNode scalar) || !scalar.getValue().startsWith("/")) {
                String shown = keyNode instanceof ScalarNode scalar ? "'" + scalar.getValue() + "'" : describe(keyNode);
                throw new UserInputException("a project in " + where + " is " + shown
                        + ", not the absolute path of a folder, such as /home/you/src/app");
            }
            Path folder = Path.of(scalar.getValue()).normalize();
            String sectionOrigin = origin + " (project " + folder + ")";
            Node section = tuple.getValueNode();
            Map<ConfigKey, RawValue> values;
            if (section instanceof ScalarNode empty && empty.getTag().equals(Tag.NULL)) {
                values = Map.of();
            } else if (section instanceof MappingNode sectionMapping) {
                values = keyValues(sectionMapping.getValue(), sectionOrigin);
            } else {
                throw new UserInputException("the settings of project " + folder + " in " + where + " are "
                        + describe(section) + ", not a mapping of keys to values such as 'memory: 4g'");
            }
            if (projects.put(folder, values) != null) {
                throw new UserInputException("project " + folder + " appears twice in " + origin + "; keep one");
            }
        }
        return projects;
    }

    private static Map<ConfigKey, RawValue> keyValues(List<NodeTuple> tuples, String origin) {
        Map<ConfigKey, RawValue> values = new EnumMap<>(ConfigKey.class);
        Map<ConfigKey, Integer> keyLines = new EnumMap<>(ConfigKey.class);
        for (NodeTuple tuple : tuples) {
            ConfigKey key = key(tuple.getKeyNode(), origin);
            Integer earlier = keyLines.put(key, line(tuple.getKeyNode()));
            if (earlier != null) {
                throw new UserInputException("key '" + key.yamlName() + "' appears twice in " + origin
                        + " (lines " + earlier + " and " + line(tuple.getKeyNode()) + "); keep one");
            }
            values.put(key, value(key, tuple.getValueNode(), origin));
        }
        return values;
    }

    /**
     * The node tree, composed as {@code Yaml.compose} does but without the constructor it never
     * uses: making one initialises java.util.logging for snakeyaml's logger, a tenth of the
     * configuration's load time on every start.
     */
    private static Node compose(String document, String origin) {
        try {
            LoaderOptions options = new LoaderOptions();
            return new Composer(new ParserImpl(new StreamReader(document), options), new Resolver(), options)
                    .getSingleNode();
        } catch (MarkedYAMLException e) {
            Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
            String position = mark == null ? "" : " (line " + (mark.getLine() + 1) + ", column " + (mark.getColumn() + 1) + ")";
            String problem = e.getProblem() != null ? e.getProblem() : e.getContext();
            throw new UserInputException("malformed YAML in " + origin + position + ": " + oneLine(problem));
        } catch (YAMLException e) {
            throw new UserInputException("cannot read the YAML in " + origin + ": " + oneLine(e.getMessage()));
        }
    }

    private static ConfigKey key(Node node, String origin) {
        if (!(node instanceof ScalarNode scalar)) {
            throw new UserInputException("a key in " + origin + " (line " + line(node) + ") is " + describe(node)
                    + "; keys are plain names such as memory");
        }
        String name = scalar.getValue();
        return ConfigKey.fromYamlName(name).orElseThrow(() -> unknownKey(name, origin, line(node)));
    }

    private static UserInputException unknownKey(String name, String origin, int line) {
        List<String> known = Arrays.stream(ConfigKey.values()).map(ConfigKey::yamlName).toList();
        String advice = Suggestions.closest(name, known)
                .map(suggestion -> "did you mean '" + suggestion + "'?")
                .orElse("the keys are " + String.join(", ", known));
        return new UserInputException("unknown key '" + name + "' in " + origin + " (line " + line + "); " + advice);
    }

    private static RawValue value(ConfigKey key, Node node, String origin) {
        int line = line(node);
        if (node instanceof ScalarNode scalar) {
            return scalarValue(key, scalar, origin);
        }
        if (node instanceof SequenceNode sequence && sequence.getTag().equals(Tag.SEQ)) {
            List<String> items = new ArrayList<>();
            for (Node item : sequence.getValue()) {
                RawValue itemValue = item instanceof ScalarNode scalar ? scalarValue(key, scalar, origin) : null;
                if (itemValue == null || itemValue.shape() == RawValue.Shape.STRUCTURE) {
                    return RawValue.structure(key, "a list holding " + describe(item) + tagged(item), origin, line);
                }
                items.add(itemValue.shape() == RawValue.Shape.EMPTY ? "" : itemValue.text());
            }
            return RawValue.list(key, items, origin, line);
        }
        return RawValue.structure(key, describe(node) + tagged(node), origin, line);
    }

    private static String tagged(Node node) {
        Tag tag = node.getTag();
        return PLAIN_TAGS.contains(tag) || tag.equals(Tag.SEQ) || tag.equals(Tag.MAP) ? "" : " tagged " + tag.getValue();
    }

    private static RawValue scalarValue(ConfigKey key, ScalarNode scalar, String origin) {
        int line = line(scalar);
        if (!PLAIN_TAGS.contains(scalar.getTag())) {
            return RawValue.structure(key, describe(scalar) + tagged(scalar), origin, line);
        }
        if (scalar.getTag().equals(Tag.NULL)) {
            return RawValue.empty(key, origin, line);
        }
        return RawValue.text(key, scalar.getValue(), origin, line);
    }

    private static String describe(Node node) {
        if (node instanceof MappingNode) {
            return "a mapping";
        }
        if (node instanceof SequenceNode) {
            return "a list";
        }
        return "a value";
    }

    private static int line(Node node) {
        return node.getStartMark().getLine() + 1;
    }

    private static String oneLine(String text) {
        return text == null ? "unknown problem" : Arrays.stream(text.split("\\R")).map(String::strip)
                .filter(part -> !part.isEmpty()).collect(Collectors.joining(" "));
    }
}
