package dev.claudecage.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.List;
import java.util.Optional;

/** The {@code claude-cage} command: a thin picocli layer over the core packages. */
@Command(name = "claude-cage",
        mixinStandardHelpOptions = true,
        // Every subcommand gets --help and --version without declaring them.
        scope = CommandLine.ScopeType.INHERIT,
        versionProvider = VersionCommand.Provider.class,
        description = "Runs Claude Code and other commands in hardened OCI sandboxes, without Docker.",
        subcommands = {
                RunCommand.class,
                VerifyCommand.class,
                StartCommand.class,
                AttachCommand.class,
                ShellCommand.class,
                StatusCommand.class,
                InspectCommand.class,
                DiffCommand.class,
                ApplyCommand.class,
                CheckpointCommand.class,
                CheckpointsCommand.class,
                RollbackCommand.class,
                LogsCommand.class,
                ListCommand.class,
                StopCommand.class,
                DestroyCommand.class,
                GcCommand.class,
                ConfigCommand.class,
                PolicyCommand.class,
                ReportCommand.class,
                InitCommand.class,
                BuildCommand.class,
                ImagesCommand.class,
                ImageCommand.class,
                GatewayCommand.class,
                KubeCommand.class,
                VersionCommand.class,
                DoctorCommand.class,
                UnshareCommand.class,
                CompletionCommand.class,
                CommandLine.HelpCommand.class
        })
public final class Main {

    /**
     * The types whose converters picocli's parser leaves out (its {@code picocli.converters.excludes}).
     * Each parser registers converters for java.sql's and java.time's types by reflection, loading and
     * initialising those classes (their formatters, zone rules and JDBC driver manager): about 6 ms of
     * every call's main thread, before a single argument is read. None of our options has such a type
     * ({@code MainTest} checks every one).
     */
    static final String UNUSED_CONVERTERS = "java\\.(sql|time)\\..*";

    static {
        System.setProperty("picocli.converters.excludes", UNUSED_CONVERTERS);
    }

    /** The calls that only ask for the version: answered before picocli builds its command model. */
    private static final List<List<String>> VERSION_REQUESTS = List.of(List.of("--version"), List.of("-V"),
            List.of("version"));

    public static void main(String[] args) {
        if (VERSION_REQUESTS.contains(List.of(args))) {
            System.out.println(VersionCommand.version());
            System.exit(0);
        }
        if (PlainViews.answers(args)) {
            System.exit(PlainViews.answer(Context.forThisHost(), args, PlainViews.stdout(), PlainViews.stderr()));
        }
        Prewarm.startFor(args);
        System.exit(execute(args));
    }

    public static int execute(String... args) {
        if (args.length == 0) {
            System.out.print(Orientation.text(Orientation.docs()));
            System.out.flush();
            return 0;
        }
        return commandLine(Context.forThisHost(), args)
                .setExecutionExceptionHandler(new ErrorHandler())
                .setParameterExceptionHandler(ErrorHandler::onBadArguments)
                .execute(args);
    }

    /**
     * The command model for these arguments. A call that names one of our subcommands first gets a
     * model of that one alone, built in code that the build generated from the annotations
     * ({@link CommandModels}): picocli's reflection over annotations costs about 40 ms of every
     * start. Its usage, options and errors are those of the whole model. Anything else gets the
     * whole model, read from the annotations: top-level options, a misspelt name (for the
     * suggestions), and picocli's own {@code help}, which reads the whole model. Every command it
     * makes gets {@code context}.
     */
    static CommandLine commandLine(Context context, String... args) {
        CommandLine.IFactory factory = new WithContext(context);
        if (args.length > 0 && !args[0].isEmpty() && !args[0].startsWith("-")) {
            CommandLine one;
            try {
                one = CommandModels.generated().withSubcommand(args[0], factory);
            } catch (Exception e) {
                throw new CommandLine.InitializationException("could not build the model of '" + args[0] + "': " + e, e);
            }
            if (one != null) {
                return one;
            }
        }
        return new CommandLine(new Main(), factory);
    }

    /**
     * The model of the one subcommand {@code word} names, under a top-level command with the same
     * options, read from the annotations: what the build generates {@link CommandModels} from, and
     * what {@code GeneratedCommandModelTest} compares them with. Empty when {@code word} names none of ours.
     */
    static Optional<CommandLine> oneSubcommandByAnnotations(Context context, String word) {
        Class<?>[] subcommands = Main.class.getAnnotation(Command.class).subcommands();
        Optional<Class<?>> named = byClassName(subcommands, word);
        if (named.isEmpty()) {
            named = byAnnotation(subcommands, word);
        }
        return named.map(command -> new CommandLine(new WithOneSubcommand(), new WithContext(context))
                .addSubcommand(command));
    }

    /**
     * Our subcommand named {@code word} where its class follows the naming rule ({@code run} is
     * RunCommand), checked against its annotation.
     */
    private static Optional<Class<?>> byClassName(Class<?>[] subcommands, String word) {
        String className = Main.class.getPackageName() + "." + Character.toUpperCase(word.charAt(0))
                + word.substring(1) + "Command";
        for (Class<?> subcommand : subcommands) {
            if (subcommand.getName().equals(className)) {
                Command command = subcommand.getAnnotation(Command.class);
                return command != null && command.name().equals(word) ? Optional.of(subcommand) : Optional.empty();
            }
        }
        return Optional.empty();
    }

    /** Our subcommand named or aliased {@code word}, whatever its class is called. */
    private static Optional<Class<?>> byAnnotation(Class<?>[] subcommands, String word) {
        for (Class<?> subcommand : subcommands) {
            Command command = subcommand.getAnnotation(Command.class);
            if (command != null && (command.name().equals(word) || List.of(command.aliases()).contains(word))
                    && subcommand.getPackageName().equals(Main.class.getPackageName())) {
                return Optional.of(subcommand);
            }
        }
        return Optional.empty();
    }

    /** Hands every command's {@code @Mixin Context} the one context; makes everything else as picocli does. */
    record WithContext(Context context) implements CommandLine.IFactory {
        @Override
        public <K> K create(Class<K> type) throws Exception {
            return type == Context.class ? type.cast(context) : CommandLine.defaultFactory().create(type);
        }
    }

    /** The top-level command as {@link Main} declares it, less the subcommand list. */
    @Command(name = "claude-cage",
            mixinStandardHelpOptions = true,
            scope = CommandLine.ScopeType.INHERIT,
            versionProvider = VersionCommand.Provider.class,
            description = "Runs Claude Code and other commands in hardened OCI sandboxes, without Docker.")
    static final class WithOneSubcommand {
    }
}
