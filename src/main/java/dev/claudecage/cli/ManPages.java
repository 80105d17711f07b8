package dev.claudecage.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The man pages, {@code claude-cage(1)} and one per subcommand ({@code claude-cage-run(1)},
 * {@code claude-cage-image-save(1)}, ...), written in roff straight from the picocli model at build
 * time ({@code make build}): the same words as {@code --help}, with nothing to install for them.
 * (picocli-codegen's AsciiDoc, through asciidoctor, garbled the synopses whose parameter labels
 * hold brackets, such as {@code UID[:GID]}.) The pages carry no date, so the same model gives the
 * same files.
 */
public final class ManPages {

    private static final String MANUAL = "claude-cage manual";

    private ManPages() {
    }

    /** Writes the pages into the folder {@code args[0]}, made if missing. */
    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: java -cp claude-cage.jar " + ManPages.class.getName() + " DIRECTORY");
            System.exit(2);
        }
        Path directory = Files.createDirectories(Path.of(args[0]));
        for (Map.Entry<String, String> page : render(Main.commandLine(Context.forThisHost()), VersionCommand.version()).entrySet()) {
            Files.writeString(directory.resolve(page.getKey()), page.getValue(), StandardCharsets.UTF_8);
        }
    }

    /** File name to page, for {@code root} and every visible subcommand beneath it, parents first. */
    static Map<String, String> render(CommandLine root, String version) {
        Map<String, String> pages = new LinkedHashMap<>();
        addPages(pages, root, version);
        return pages;
    }

    private static void addPages(Map<String, String> pages, CommandLine command, String version) {
        pages.put(pageName(command.getCommandSpec()) + ".1", page(command, version));
        for (CommandLine sub : ShellCompletion.distinct(command)) {
            if (!sub.getCommandSpec().usageMessage().hidden()) {
                addPages(pages, sub, version);
            }
        }
    }

    /** claude-cage, claude-cage-run, claude-cage-image-save. */
    static String pageName(CommandSpec spec) {
        return spec.qualifiedName("-");
    }

    static String page(CommandLine command, String version) {
        CommandSpec spec = command.getCommandSpec();
        String name = pageName(spec);
        StringBuilder roff = new StringBuilder();
        roff.append(".TH \"").append(name.toUpperCase(Locale.ROOT)).append("\" \"1\" \"\" \"").append(escape(version))
                .append("\" \"").append(MANUAL).append("\"\n");
        roff.append(".SH NAME\n").append(escape(name)).append(" \\- ")
                .append(escape(ShellCompletion.summary(spec.usageMessage().description()))).append('\n');
        roff.append(".SH SYNOPSIS\n.nf\n")
                .append(escape(new CommandLine.Help(spec, CommandLine.Help.defaultColorScheme(CommandLine.Help.Ansi.OFF))
                        .synopsis(0).stripTrailing())).append("\n.fi\n");
        roff.append(".SH DESCRIPTION\n");
        for (String paragraph : spec.usageMessage().description()) {
            roff.append(paragraph.startsWith("  ") ? ".RS\n.nf\n" + escape(paragraph.strip()) + "\n.fi\n.RE\n"
                    : ".PP\n" + escape(paragraph) + "\n");
        }
        if (spec.aliases().length > 0) {
            roff.append(".PP\nAlso called: ").append(escape(String.join(", ", List.of(spec.aliases())))).append(".\n");
        }
        List<PositionalParamSpec> positionals = spec.positionalParameters().stream().filter(p -> !p.hidden()).toList();
        if (!positionals.isEmpty()) {
            roff.append(".SH ARGUMENTS\n");
            for (PositionalParamSpec positional : positionals) {
                roff.append(".TP\n\\fI").append(escape(positional.paramLabel())).append("\\fR\n")
                        .append(escape(String.join(" ", positional.description()))).append('\n');
            }
        }
        List<OptionSpec> options = spec.options().stream().filter(option -> !option.hidden()).toList();
        if (!options.isEmpty()) {
            roff.append(".SH OPTIONS\n");
            for (OptionSpec option : options) {
                // Short names first, as --help lists them, whatever order the annotation gives.
                List<String> names = Stream.of(option.names()).sorted(Comparator.comparingInt(String::length))
                        .map(optionName -> "\\fB" + escape(optionName) + "\\fR").toList();
                roff.append(".TP\n").append(String.join(", ", names));
                if (option.arity().max() > 0) {
                    roff.append("=\\fI").append(escape(option.paramLabel())).append("\\fR");
                }
                roff.append('\n').append(escape(String.join(" ", option.description()))).append('\n');
            }
        }
        List<CommandLine> subcommands = ShellCompletion.distinct(command).stream()
                .filter(sub -> !sub.getCommandSpec().usageMessage().hidden()).toList();
        if (!subcommands.isEmpty()) {
            roff.append(".SH COMMANDS\n");
            for (CommandLine sub : subcommands) {
                CommandSpec subSpec = sub.getCommandSpec();
                List<String> names = new ArrayList<>(List.of(subSpec.name()));
                names.addAll(List.of(subSpec.aliases()));
                roff.append(".TP\n\\fB").append(escape(String.join(", ", names))).append("\\fR\n")
                        .append(escape(ShellCompletion.summary(subSpec.usageMessage().description())))
                        .append(". See \\fB").append(escape(pageName(subSpec))).append("\\fR(1).\n");
            }
        }
        roff.append(".SH SEE ALSO\n");
        CommandSpec parent = spec.parent();
        roff.append(parent == null ? "The README and docs/ of claude-cage."
                : "\\fB" + escape(pageName(parent)) + "\\fR(1)").append('\n');
        return roff.toString();
    }

    /**
     * Text as roff prints it: backslashes escaped, hyphens as hyphen-minus (so options can be searched
     * and pasted), and a line that would start with a control character ('.' or ''') guarded.
     */
    static String escape(String text) {
        String escaped = text.replace("\\", "\\e").replace("-", "\\-");
        StringBuilder guarded = new StringBuilder();
        for (String line : escaped.split("\n", -1)) {
            if (guarded.length() > 0) {
                guarded.append('\n');
            }
            guarded.append(line.startsWith(".") || line.startsWith("'") ? "\\&" + line : line);
        }
        return guarded.toString();
    }
}
