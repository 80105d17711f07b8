package dev.claudecage.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Main has picocli leave out the converters of java.sql's and java.time's types (their registration
 * costs every call about 6 ms): no option of ours may have such a type, or its value could not be read.
 */
class UnusedConvertersTest {

    /** Main's class initialisation sets the exclusion; every model it builds is made after it. */
    private final CommandLine whole = Main.commandLine(Context.forThisHost());

    @Test
    void noOptionOrParameterHasATypeWhoseConverterIsLeftOut() {
        Pattern unused = Pattern.compile(Main.UNUSED_CONVERTERS);
        List<String> typesSeen = new ArrayList<>();
        for (ArgSpec arg : allArgs(whole, new ArrayList<>())) {
            List<Class<?>> types = new ArrayList<>(List.of(arg.auxiliaryTypes()));
            types.add(arg.type());
            for (Class<?> type : types) {
                assertTrue(!unused.matcher(type.getName()).matches(), arg + " of " + arg.command().qualifiedName()
                        + " has type " + type.getName() + ", whose converter Main has picocli leave out");
                typesSeen.add(type.getName());
            }
        }
        // The loop's positive control: it saw every command's options, Path-typed ones among them.
        assertTrue(typesSeen.size() > 300, "only " + typesSeen.size() + " types seen");
        assertTrue(typesSeen.contains(Path.class.getName()), "no Path-typed option seen");
    }

    @Test
    void theLeftOutConvertersAreTheOnlyOnesMissing() {
        // The exclusion is in force: a java.time option could not be read (the positive control of the test above)...
        CommandLine withDuration = new CommandLine(new WithDurationAndPath());
        CommandLine.ParameterException missing = assertThrows(CommandLine.ParameterException.class,
                () -> withDuration.parseArgs("--wait", "PT1S"));
        assertTrue(missing.getMessage().contains("java.time.Duration"), missing.getMessage());
        // ... and picocli's other reflective converter, for Path, which our options use, is still there.
        WithDurationAndPath command = new WithDurationAndPath();
        new CommandLine(command).parseArgs("--file", "/tmp/x");
        assertEquals(Path.of("/tmp/x"), command.file);
    }

    private static List<ArgSpec> allArgs(CommandLine command, List<ArgSpec> into) {
        into.addAll(command.getCommandSpec().args());
        for (CommandLine subcommand : command.getSubcommands().values()) {
            allArgs(subcommand, into);
        }
        return into;
    }

    static final class WithDurationAndPath {
        @Option(names = "--wait")
        Duration wait;

        @Option(names = "--file")
        Path file;
    }
}
