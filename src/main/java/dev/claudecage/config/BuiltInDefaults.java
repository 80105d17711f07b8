package dev.claudecage.config;

import java.util.Map;

/**
 * The built-in defaults (config/default.yaml) as the layer the others go on, made in code rather than
 * parsed on every start: reading the file out of the jar and parsing it with SnakeYAML took a third of
 * the configuration's load, and with no configuration file on the host SnakeYAML is then not loaded at
 * all. The file stays the source: the build parses it with {@link YamlLayer}, as the launcher did, and
 * writes the code ({@code src/build/java}, {@code BuiltInDefaultsGenerator}, run by {@code pom.xml});
 * {@code BuiltInDefaultsTest} checks the code against the file.
 */
interface BuiltInDefaults {

    /** The name of the class the build generates, in this package. */
    String GENERATED = BuiltInDefaults.class.getPackageName() + ".GeneratedBuiltInDefaults";

    /** Each key of config/default.yaml with its value, origin {@link ConfigLoader#BUILT_IN_DEFAULT} and line. */
    Map<ConfigKey, RawValue> values();

    /** The build's generated defaults. */
    static BuiltInDefaults generated() {
        try {
            return Class.forName(GENERATED).asSubclass(BuiltInDefaults.class).getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("this claude-cage.jar lacks its generated built-in defaults (" + GENERATED
                    + "): build it with 'mvn package' or 'make build', which generate them", e);
        }
    }
}
