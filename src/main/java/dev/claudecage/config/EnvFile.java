package dev.claudecage.config;

import dev.claudecage.UserInputException;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Docker's two ways of giving a cage environment variables beyond KEY=VALUE: {@code --env-file FILE}
 * (a line per variable, KEY=VALUE or KEY; blank lines and lines starting with '#' skipped; the value
 * taken as written, quotes and all) and {@code -e KEY}, whose value is claude-cage's own. Unlike
 * Docker, a KEY that claude-cage's environment lacks is an error, not a variable silently left out:
 * sudo clears the environment, and the user would otherwise wonder where it went.
 */
public final class EnvFile {

    /** A file of environment variables is a few kilobytes; past this it is some other file given by mistake. */
    static final int MAX_BYTES = 1 << 20;
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private EnvFile() {
    }

    /** The file's variables as KEY=VALUE entries, in order. */
    public static List<String> read(Path file, Map<String, String> environment) {
        byte[] bytes;
        try {
            if (Files.size(file) > MAX_BYTES) {
                throw new UserInputException("--env-file " + file + " is larger than " + (MAX_BYTES >> 20) + " MiB",
                        "give a file of KEY=VALUE lines");
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UserInputException("cannot read --env-file " + file + ": " + e.getMessage(),
                    "give an existing file of KEY=VALUE lines");
        }
        String content;
        try {
            content = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new UserInputException("--env-file " + file + " is not UTF-8 text", "give a file of KEY=VALUE lines");
        }
        return parse(content, file.toString(), environment);
    }

    /** The entries of a file's {@code content}; {@code where} names the file in errors. */
    static List<String> parse(String content, String where, Map<String, String> environment) {
        List<String> entries = new ArrayList<>();
        List<String> lines = content.lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).stripLeading();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String origin = "--env-file " + where + " line " + (i + 1);
            int equals = line.indexOf('=');
            String name = equals < 0 ? line.stripTrailing() : line.substring(0, equals);
            if (!NAME.matcher(name).matches()) {
                throw new UserInputException(origin + ": '" + name + "' is not a variable name",
                        "write KEY=VALUE or KEY, where KEY is letters, digits and '_' and does not start with a digit");
            }
            entries.add(equals < 0 ? fromEnvironment(name, origin, environment) : line);
        }
        return entries;
    }

    /**
     * A {@code -e} entry as the configuration takes it: KEY=VALUE as it is, a lone KEY with
     * claude-cage's own value of it. Anything else is left for the configuration's check.
     */
    public static String expand(String entry, Map<String, String> environment) {
        if (entry.indexOf('=') >= 0 || !NAME.matcher(entry).matches()) {
            return entry;
        }
        return fromEnvironment(entry, "--env '" + entry + "'", environment);
    }

    private static String fromEnvironment(String name, String origin, Map<String, String> environment) {
        String value = environment.get(name);
        if (value == null) {
            throw new UserInputException(origin + " gives no value, and " + name + " is not set in claude-cage's "
                    + "environment (sudo clears it)", "write " + name + "=VALUE, or keep it across sudo with "
                    + "sudo --preserve-env=" + name);
        }
        return name + "=" + value;
    }
}
