package dev.claudecage.config;

import dev.claudecage.UserInputException;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

import java.io.StringReader;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
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

    /** The keys set in the document; an empty document sets none. */
    static Map<ConfigKey, RawValue> parse(String document, String origin) {
        Node root = compose(document, origin);
        Map<ConfigKey, RawValue> values = new EnumMap<>(ConfigKey.class);
        if (root == null) {
            return values;
        }
        if (!(root instanceof MappingNode mapping)) {
            throw new UserInputException("the top level of " + origin + " (line " + line(root)
                    + ") is " + describe(root) + ", not a mapping of keys to values such as 'memory: 4g'");
        }
        Map<ConfigKey, Integer> keyLines = new EnumMap<>(ConfigKey.class);
        for (NodeTuple tuple : mapping.getValue()) {
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

    private static Node compose(String document, String origin) {
        try {
            return new Yaml(new SafeConstructor(new LoaderOptions())).compose(new StringReader(document));
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
