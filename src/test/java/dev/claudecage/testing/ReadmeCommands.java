package dev.claudecage.testing;

import java.util.ArrayList;
import java.util.List;

/**
 * The commands a reader copies from a Markdown file: each command of its {@code bash} blocks, with the
 * comment on its line (where the README says what it prints), lines continued with a backslash joined,
 * and {@code a && b} or {@code a; b} taken as two commands.
 */
public final class ReadmeCommands {

    /**
     * @param line    the command as written, {@code sudo} included
     * @param comment what follows {@code #} on its line, or ""
     */
    public record Command(String line, String comment) {

        /** The words after {@code claude-cage} (and {@code sudo} and its options before it), or null for another program. */
        public List<String> cageArguments() {
            List<String> words = words(line);
            int at = 0;
            if (at < words.size() && words.get(at).equals("sudo")) {
                at++;
                while (at < words.size() && words.get(at).startsWith("-")) {
                    at++;
                }
            }
            if (at >= words.size() || !words.get(at).equals("claude-cage")) {
                return null;
            }
            return words.subList(at + 1, words.size());
        }
    }

    private ReadmeCommands() {
    }

    /**
     * What is wrong with how {@code command} ended, or null: a comment "prints X" must find X in its standard
     * output and the command must succeed; a command that fails must be one whose comment names what it prints.
     */
    public static String problem(Command command, int exitCode, String stdout, String stderr) {
        if (command.comment().startsWith("prints ")) {
            String printed = command.comment().substring("prints ".length()).strip();
            return exitCode == 0 && stdout.contains(printed) ? null : "does not print " + printed;
        }
        if (exitCode == 0) {
            return null;
        }
        return !command.comment().isEmpty() && (stdout + stderr).contains(command.comment()) ? null
                : "exit " + exitCode + ", and the README does not say it fails";
    }

    public static List<Command> extract(String markdown) {
        List<Command> commands = new ArrayList<>();
        boolean inBash = false;
        StringBuilder continued = new StringBuilder();
        for (String line : markdown.split("\n", -1)) {
            if (line.startsWith("```")) {
                inBash = !inBash && line.strip().equals("```bash");
                continue;
            }
            if (!inBash) {
                continue;
            }
            int hash = commentStart(line);
            String code = (hash < 0 ? line : line.substring(0, hash)).strip();
            String comment = hash < 0 ? "" : line.substring(hash + 1).strip();
            if (code.endsWith("\\")) {
                continued.append(code.substring(0, code.length() - 1).strip()).append(' ');
                continue;
            }
            String whole = (continued + code).strip();
            continued.setLength(0);
            if (whole.isEmpty()) {
                continue;
            }
            for (String part : split(whole)) {
                commands.add(new Command(part, comment));
            }
        }
        return commands;
    }

    /** Where a shell comment starts: a {@code #} at the start or after a space, outside quotes; -1 for none. */
    private static int commentStart(String line) {
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quote != 0) {
                quote = c == quote ? 0 : quote;
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '#' && (i == 0 || line.charAt(i - 1) == ' ')) {
                return i;
            }
        }
        return -1;
    }

    /** {@code a && b; c} as a, b and c (outside quotes); a pipe stays one command. */
    private static List<String> split(String code) {
        List<String> parts = new ArrayList<>();
        StringBuilder part = new StringBuilder();
        char quote = 0;
        for (int i = 0; i < code.length(); i++) {
            char c = code.charAt(i);
            if (quote != 0) {
                quote = c == quote ? 0 : quote;
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == ';' || code.startsWith("&&", i)) {
                parts.add(part.toString().strip());
                part.setLength(0);
                i += c == ';' ? 0 : 1;
                continue;
            }
            part.append(c);
        }
        parts.add(part.toString().strip());
        parts.removeIf(String::isEmpty);
        return parts;
    }

    /** A command's words as the shell splits them, quotes removed (no variables or globs: they stay as written). */
    static List<String> words(String command) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean inWord = false;
        char quote = 0;
        for (char c : command.toCharArray()) {
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else {
                    word.append(c);
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
                inWord = true;
            } else if (c == ' ' || c == '\t') {
                if (inWord) {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            } else {
                word.append(c);
                inWord = true;
            }
        }
        if (inWord) {
            words.add(word.toString());
        }
        return words;
    }
}
