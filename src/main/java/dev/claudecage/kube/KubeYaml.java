package dev.claudecage.kube;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * fabric8's model as YAML: Jackson makes the tree in the model's own field order (its annotations
 * leave out what is unset), SnakeYAML writes it as block YAML.
 */
public final class KubeYaml {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private KubeYaml() {
    }

    /** The object as a tree of maps, lists and scalars, in the model's field order. */
    static Map<String, Object> tree(Object model) {
        return MAPPER.convertValue(model, new TypeReference<LinkedHashMap<String, Object>>() { });
    }

    public static String write(Object model) {
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        options.setIndicatorIndent(2);
        options.setIndentWithIndicator(true);
        options.setWidth(120);
        return new Yaml(options).dump(tree(model));
    }
}
