package dev.claudecage.cli;

import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.util.ArrayList;
import java.util.List;

/**
 * The completion scripts, each made from the picocli model, so that every command, alias and flag
 * is offered: bash (picocli's own script), zsh (that script through zsh's bashcompinit, as a
 * {@code #compdef} file for zsh's completion folders) and fish (generated here).
 */
final class ShellCompletion {

    static final String COMMAND = "claude-cage";

    enum Shell { bash, zsh, fish }

    private ShellCompletion() {
    }

    static String script(Shell shell, CommandLine root) {
        return switch (shell) {
            case bash -> bash(root);
            case zsh -> zsh(root);
            case fish -> fish(root);
        };
    }

    /** picocli's script, without its {@code #!} line: a completion script is sourced, never run. */
    private static String bash(CommandLine root) {
        String script = AutoComplete.bash(COMMAND, root);
        return script.startsWith("#!") ? script.substring(script.indexOf('\n') + 1) : script;
    }

    private static String zsh(CommandLine root) {
        return "#compdef " + COMMAND + "\n"
                + "# claude-cage's bash completion (made by picocli), run by zsh's bashcompinit.\n"
                + "# zsh has no compopt, which the script calls to ask for file names; an alias it makes\n"
                + "# reaches no function of this file when zsh autoloads it, so it is a no-op here.\n"
                + "(( $+functions[compopt] )) || compopt() { :; }\n"
                + bash(root)
                + "\n# Autoloaded from a completion folder, this file is the completion function itself: complete now too.\n"
                + "if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then\n"
                + "  _bash_complete -F _complete_" + COMMAND + "\n"
                + "fi\n";
    }

    /**
     * Fish: subcommands where none is typed yet (at each level), and each command's options once its
     * path of subcommands is typed. The path is the words typed that are not options, so an option's
     * value or a positional argument after the path does not matter.
     */
    private static String fish(CommandLine root) {
        StringBuilder script = new StringBuilder();
        script.append("# claude-cage completion for fish, made from its command model.\n")
                .append("function __claude_cage_words --description 'the words typed after claude-cage that are not options'\n")
                .append("    set -l words (commandline -opc)\n")
                .append("    string match -v -- '-*' $words[2..-1]\n")
                .append("end\n")
                .append("function __claude_cage_at --description 'the subcommands typed start with the arguments'\n")
                .append("    set -l typed (__claude_cage_words)\n")
                .append("    test (count $typed) -ge (count $argv); or return 1\n")
                .append("    for i in (seq (count $argv))\n")
                .append("        test \"$typed[$i]\" = \"$argv[$i]\"; or return 1\n")
                .append("    end\n")
                .append("end\n")
                .append("function __claude_cage_only --description 'exactly these subcommands are typed, nothing after them'\n")
                .append("    test \"$(__claude_cage_words)\" = \"$argv\"\n")
                .append("end\n");
        fishCommand(script, root, List.of());
        return script.toString();
    }

    private static void fishCommand(StringBuilder script, CommandLine command, List<String> path) {
        String at = String.join(" ", path);
        for (OptionSpec option : command.getCommandSpec().options()) {
            if (option.hidden()) {
                continue;
            }
            StringBuilder line = new StringBuilder("complete -c " + COMMAND + " -n " + quote(("__claude_cage_at " + at).strip()));
            for (String name : option.names()) {
                line.append(name.startsWith("--") ? " -l " + name.substring(2) : " -s " + name.substring(1));
            }
            if (option.arity().max() > 0) {
                line.append(" -r");
            }
            script.append(line).append(" -d ").append(quote(summary(option.description()))).append('\n');
        }
        for (CommandLine sub : distinct(command)) {
            CommandSpec spec = sub.getCommandSpec();
            if (spec.usageMessage().hidden()) {
                continue;
            }
            List<String> names = new ArrayList<>(List.of(spec.name()));
            names.addAll(List.of(spec.aliases()));
            for (String name : names) {
                script.append("complete -c ").append(COMMAND).append(" -f -n ")
                        .append(quote(("__claude_cage_only " + at).strip())).append(" -a ").append(quote(name))
                        .append(" -d ").append(quote(summary(spec.usageMessage().description()))).append('\n');
                List<String> subPath = new ArrayList<>(path);
                subPath.add(name);
                fishCommand(script, sub, subPath);
            }
        }
    }

    /** Each subcommand once, though picocli lists it under each of its names. */
    static List<CommandLine> distinct(CommandLine command) {
        List<CommandLine> subcommands = new ArrayList<>();
        for (CommandLine sub : command.getSubcommands().values()) {
            if (!subcommands.contains(sub)) {
                subcommands.add(sub);
            }
        }
        return subcommands;
    }

    /** The first sentence of a description, for a one-line summary. */
    static String summary(String[] description) {
        if (description.length == 0) {
            return "";
        }
        String text = description[0].strip();
        int end = text.indexOf(". ");
        String sentence = end < 0 ? text : text.substring(0, end);
        return sentence.endsWith(".") ? sentence.substring(0, sentence.length() - 1) : sentence;
    }

    /** A fish single-quoted string. */
    private static String quote(String text) {
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }
}
