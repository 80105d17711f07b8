package dev.claudecage.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgGroupSpec;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The command models the build generated (CommandModels, from src/build/java) against the models
 * picocli reads from the annotations, for every name and alias of every subcommand: the same
 * usage help, options, positional parameters, groups and subcommands, and the same outcome of a
 * set of command lines made from the model (the fields they set; or the error, its message and
 * exit code). A model that fell behind its annotations would fail here, and so the build.
 */
class GeneratedCommandModelTest {

    private final Context context = Context.forThisHost();

    @Test
    void everyGeneratedModelIsItsAnnotationModel() throws Exception {
        Map<String, CommandLine> whole = Main.commandLine(context).getSubcommands();
        int compared = 0;
        int lines = 0;
        for (String word : whole.keySet()) {
            CommandLine generated = CommandModels.generated().withSubcommand(word, new Main.WithContext(context));
            if (!whole.get(word).getCommand().getClass().getPackageName().equals(Main.class.getPackageName())) {
                assertNull(generated, word + " is picocli's own: the whole model answers it");
                continue;
            }
            assertNotNull(generated, word + " has no generated model");
            CommandLine annotated = Main.oneSubcommandByAnnotations(context, word).orElseThrow();
            assertEquals(List.of(), differences(annotated, generated), word);
            for (List<String> line : commandLines(annotated.getSubcommands().get(word), List.of(word))) {
                String[] args = line.toArray(String[]::new);
                assertEquals(outcome(Main.oneSubcommandByAnnotations(context, word).orElseThrow(), args),
                        outcome(Main.commandLine(context, args), args), String.join(" ", line));
                lines++;
            }
            compared++;
        }
        // The positive control of the loop: it saw our commands and their aliases, and many command lines.
        assertTrue(compared > 25, "only " + compared + " names compared");
        assertTrue(lines > 300, "only " + lines + " command lines compared");
    }

    @Test
    void mainUsesTheGeneratedModelForASubcommand() {
        CommandLine model = Main.commandLine(context, "run", "--help");
        // A generated model's arguments are bound by FieldBinding; picocli's reflection binds its own.
        ArgSpec detach = model.getSubcommands().get("run").getCommandSpec().findOption("--detach");
        assertTrue(detach.getter() instanceof FieldBinding, detach.getter().getClass().getName());
        ArgSpec annotated = Main.oneSubcommandByAnnotations(context, "run").orElseThrow()
                .getSubcommands().get("run").getCommandSpec().findOption("--detach");
        assertFalse(annotated.getter() instanceof FieldBinding, "the control: picocli's own binding");
    }

    @Test
    void theComparisonCatchesADifferentDescriptionOptionOrFieldValue() throws Exception {
        CommandLine annotated = Main.oneSubcommandByAnnotations(context, "run").orElseThrow();

        CommandLine described = Main.commandLine(context, "run");
        described.getSubcommands().get("run").getCommandSpec().usageMessage().description("Something else.");
        assertFalse(differences(annotated, described).isEmpty(), "a changed description");

        CommandLine lessAnOption = Main.commandLine(context, "run");
        CommandSpec run = lessAnOption.getSubcommands().get("run").getCommandSpec();
        run.remove(run.findOption("--name"));
        assertFalse(differences(annotated, lessAnOption).isEmpty(), "an option less");

        // The same command line setting a field to another value: a binding to the wrong field looks like this.
        assertFalse(outcome(Main.commandLine(context, "run"), new String[]{"run", "--name", "a", "true"})
                .equals(outcome(annotated, new String[]{"run", "--name", "b", "true"})), "another value");
    }

    /** What tells two models apart: each command's usage, properties, arguments and subcommands. */
    private static List<String> differences(CommandLine expected, CommandLine actual) {
        List<String> differences = new ArrayList<>();
        compare(expected, actual, differences);
        return differences;
    }

    private static void compare(CommandLine expected, CommandLine actual, List<String> differences) {
        String name = expected.getCommandSpec().qualifiedName();
        check(differences, name + " usage", expected.getUsageMessage(), actual.getUsageMessage());
        check(differences, name + " command", command(expected.getCommandSpec()), command(actual.getCommandSpec()));
        check(differences, name + " options", describe(expected.getCommandSpec().options()),
                describe(actual.getCommandSpec().options()));
        check(differences, name + " positionals", describe(expected.getCommandSpec().positionalParameters()),
                describe(actual.getCommandSpec().positionalParameters()));
        check(differences, name + " groups", groups(expected.getCommandSpec().argGroups()),
                groups(actual.getCommandSpec().argGroups()));
        check(differences, name + " subcommands", List.copyOf(expected.getSubcommands().keySet()),
                List.copyOf(actual.getSubcommands().keySet()));
        expected.getSubcommands().forEach((word, sub) -> {
            CommandLine other = actual.getSubcommands().get(word);
            if (other != null) {
                compare(sub, other, differences);
            }
        });
    }

    private static void check(List<String> differences, String what, Object expected, Object actual) {
        if (!expected.equals(actual)) {
            differences.add(what + ": expected <" + expected + "> but was <" + actual + ">");
        }
    }

    private static List<Object> command(CommandSpec spec) {
        return List.of(spec.name(), List.of(spec.aliases()), List.of(spec.version()), spec.exitCodeOnSuccess(),
                spec.exitCodeOnUsageHelp(), spec.exitCodeOnVersionHelp(), spec.exitCodeOnInvalidInput(),
                spec.exitCodeOnExecutionException(), spec.helpCommand(), spec.subcommandsRepeatable(),
                spec.scopeType(), String.valueOf(spec.inherited()), List.copyOf(spec.mixins().keySet()),
                spec.mixinStandardHelpOptions(), spec.userObject().getClass(), spec.usageMessage().sortOptions(),
                spec.usageMessage().width(), spec.parser().separator(), spec.parser().endOfOptionsDelimiter(),
                spec.parser().unmatchedArgumentsAllowed(), spec.parser().stopAtPositional(),
                spec.parser().posixClusteredShortOptionsAllowed(), spec.parser().caseInsensitiveEnumValuesAllowed());
    }

    private static List<List<Object>> describe(List<? extends ArgSpec> args) {
        List<List<Object>> described = new ArrayList<>();
        for (ArgSpec arg : args) {
            List<Object> fields = new ArrayList<>(Arrays.asList(arg.paramLabel(), arg.arity(), arg.type(),
                    List.of(arg.auxiliaryTypes()), String.valueOf(arg.defaultValue()), arg.required(), arg.hidden(),
                    List.of(arg.description()), arg.inherited(), arg.scopeType(), arg.hideParamSyntax(),
                    arg.splitRegex(), arg.showDefaultValue(), arg.interactive(), String.valueOf(arg.initialValue()),
                    String.valueOf(arg.completionCandidates()), arg.isMultiValue(), arg.toString()));
            if (arg instanceof OptionSpec option) {
                fields.addAll(Arrays.asList(List.of(option.names()), option.usageHelp(), option.versionHelp(),
                        option.negatable(), option.fallbackValue(), option.order()));
            } else {
                fields.add(((PositionalParamSpec) arg).index());
            }
            described.add(fields);
        }
        return described;
    }

    private static List<List<Object>> groups(List<ArgGroupSpec> groups) {
        List<List<Object>> described = new ArrayList<>();
        for (ArgGroupSpec group : groups) {
            described.add(List.of(group.synopsis(), group.exclusive(), group.multiplicity(), group.validate(),
                    group.order(), String.valueOf(group.heading()), group.typeInfo().getType(),
                    describe(new ArrayList<>(group.args()))));
        }
        return described;
    }

    /**
     * Command lines for {@code command} (reached by {@code path}) made from its model: each option
     * alone with a value of its type, the positional parameters, help and version, and errors: an
     * unknown option, an option without its value, a bad number, nothing at all.
     */
    private static List<List<String>> commandLines(CommandLine command, List<String> path) {
        List<List<String>> lines = new ArrayList<>();
        CommandSpec spec = command.getCommandSpec();
        List<String> positionals = new ArrayList<>();
        for (PositionalParamSpec positional : spec.positionalParameters()) {
            for (int i = 0; i < Math.max(1, positional.arity().min()); i++) {
                positionals.add(sample(positional.type(), positionals.size()));
            }
        }
        lines.add(path);
        lines.add(concat(path, positionals));
        lines.add(concat(path, List.of("--no-such-option"), positionals));
        lines.add(concat(path, List.of("--help")));
        lines.add(concat(path, List.of("--version")));
        for (OptionSpec option : spec.options()) {
            if (option.usageHelp() || option.versionHelp()) {
                continue;
            }
            List<String> tokens = new ArrayList<>();
            if (option.arity().max() == 0) {
                tokens.add(option.longestName());
            } else {
                String value = sample(option.typeInfo().isMultiValue() ? option.auxiliaryTypes()[0] : option.type(), 0);
                tokens.addAll(List.of(option.longestName(), value));
                if (option.isMultiValue()) {
                    tokens.addAll(List.of(option.shortestName(), value + "-again"));
                }
                lines.add(concat(path, positionals, List.of(option.longestName())));
                lines.add(concat(path, List.of(option.longestName(), "not-a-number"), positionals));
            }
            lines.add(concat(path, tokens, positionals));
        }
        command.getSubcommands().forEach((word, sub) -> lines.addAll(commandLines(sub, concat(path, List.of(word)))));
        return lines;
    }

    private static String sample(Class<?> type, int index) {
        if (type == int.class || type == Integer.class || type == long.class || type == Long.class) {
            return String.valueOf(7 + index);
        }
        if (type.isEnum()) {
            return type.getEnumConstants()[0].toString();
        }
        if (type == boolean.class || type == Boolean.class) {
            return "true";
        }
        return "/tmp/value-" + index;
    }

    @SafeVarargs
    private static List<String> concat(List<String>... parts) {
        List<String> all = new ArrayList<>();
        for (List<String> part : parts) {
            all.addAll(part);
        }
        return all;
    }

    /**
     * What a command line comes to without running the command: the fields it sets, else the error
     * as the launcher prints it and its exit code. Help and version are printed, as they would be.
     */
    private String outcome(CommandLine model, String[] args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        model.setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
        try {
            CommandLine.ParseResult parsed = model.parseArgs(args);
            while (parsed.hasSubcommand()) {
                parsed = parsed.subcommand();
            }
            if (CommandLine.printHelpIfRequested(parsed)) {
                return "help: " + out;
            }
            return "parsed: " + fields(parsed.commandSpec().userObject(), new IdentityHashMap<>());
        } catch (CommandLine.ParameterException e) {
            int code = ErrorHandler.onBadArguments(e, args);
            return "error " + code + ": " + err;
        }
    }

    /** The values of an object's fields, and of the fields of the mixins and groups it holds. */
    private Map<String, Object> fields(Object object, Map<Object, Boolean> seen) {
        Map<String, Object> values = new LinkedHashMap<>();
        if (seen.put(object, true) != null) {
            return values;
        }
        for (Class<?> c = object.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field field : c.getDeclaredFields()) {
                if (Modifier.isStatic(field.getModifiers()) || field.isSynthetic()) {
                    continue;
                }
                field.setAccessible(true);
                Object value;
                try {
                    value = field.get(object);
                } catch (IllegalAccessException e) {
                    throw new AssertionError(e);
                }
                String key = c.getSimpleName() + "." + field.getName();
                if (value instanceof CommandSpec spec) {
                    values.put(key, "the spec of " + spec.qualifiedName() + (spec.userObject() == object ? "" : " (another object)"));
                } else if (value == context) {
                    values.put(key, "the context");
                } else if (value != null && value.getClass().getPackageName().equals(Main.class.getPackageName())
                        && !Set.of(Context.class).contains(value.getClass()) && !value.getClass().isEnum()) {
                    values.put(key, fields(value, seen));
                } else {
                    values.put(key, value == null ? "null" : value.getClass().getSimpleName() + " " + value);
                }
            }
        }
        return values;
    }

}
