package dev.claudecage.cli;

import picocli.CommandLine;

/**
 * The command model of one subcommand, built in code instead of by picocli's reflection over the
 * command classes' annotations (each annotation read is a JDK proxy whose class JDK 17 generates
 * anew on every start: about 40 ms of every call). The annotations stay the source: the build
 * generates the code from them ({@code src/build/java}, {@code CommandModelGenerator}, run by
 * {@code pom.xml} after the commands are compiled), and {@code GeneratedCommandModelTest} checks
 * every command's generated model against its annotation model.
 */
interface CommandModels {

    /** The name of the class the build generates, in this package. */
    String GENERATED = CommandModels.class.getPackageName() + ".GeneratedCommandModels";

    /**
     * The top-level command with the one subcommand {@code word} names (or aliases), as
     * {@link Main#oneSubcommandByAnnotations} builds it; null when {@code word} names none of ours.
     */
    CommandLine withSubcommand(String word, CommandLine.IFactory factory) throws Exception;

    /** The build's generated models. */
    static CommandModels generated() {
        try {
            return Class.forName(GENERATED).asSubclass(CommandModels.class).getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("this claude-cage.jar lacks its generated command models (" + GENERATED
                    + "): build it with 'mvn package' or 'make build', which generate them", e);
        }
    }
}
