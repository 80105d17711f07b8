package dev.claudecage.image.dockerfile;

import dev.claudecage.UserInputException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The build context's {@code .dockerignore}: which context files COPY and ADD cannot see.
 * Patterns are matched as Docker does: against the path and each of its parent directories,
 * the last matching pattern wins, and {@code !pattern} puts a path back.
 */
public final class DockerIgnore {

    public static final String FILE_NAME = ".dockerignore";

    private record Rule(PathPattern pattern, boolean exception) {
    }

    private final List<Rule> rules;

    private DockerIgnore(List<Rule> rules) {
        this.rules = List.copyOf(rules);
    }

    public static DockerIgnore none() {
        return new DockerIgnore(List.of());
    }

    /** The context's .dockerignore, or no rules when it has none. */
    public static DockerIgnore of(Path context) {
        Path file = context.resolve(FILE_NAME);
        if (!Files.isRegularFile(file)) {
            return none();
        }
        try {
            return parse(file, Files.readString(file));
        } catch (IOException e) {
            throw new UserInputException("cannot read " + file + ": " + e.getMessage());
        }
    }

    public static DockerIgnore parse(Path file, String content) {
        List<Rule> rules = new ArrayList<>();
        String[] lines = content.split("\r?\n");
        for (int index = 0; index < lines.length; index++) {
            String line = lines[index].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            try {
                rules.add(rule(line));
            } catch (IllegalArgumentException e) {
                throw new UserInputException(file + ":" + (index + 1) + ": " + e.getMessage(),
                        "write a path pattern, or !pattern to include a path again");
            }
        }
        return new DockerIgnore(rules);
    }

    /**
     * Patterns given one by one (COPY --exclude), read like the lines of a .dockerignore;
     * throws {@link IllegalArgumentException} for one that is not a pattern.
     */
    public static DockerIgnore of(List<String> patterns) {
        return new DockerIgnore(patterns.stream().map(DockerIgnore::rule).toList());
    }

    private static Rule rule(String line) {
        boolean exception = line.startsWith("!");
        String pattern = clean(exception ? line.substring(1).strip() : line);
        if (pattern.isEmpty()) {
            throw new IllegalArgumentException("'" + line + "' is not a pattern");
        }
        return new Rule(PathPattern.ignore(pattern), exception);
    }

    /** Docker cleans each pattern like a path and drops a leading '/': the context is the root. */
    private static String clean(String pattern) {
        if (pattern.isEmpty()) {
            return pattern;
        }
        String normalized = Path.of(pattern).normalize().toString();
        while (normalized.startsWith("/")) {
            normalized = normalized.substring(1);
        }
        return normalized.equals(".") ? "" : normalized;
    }

    /** Whether {@code relativePath} ('/'-separated, relative to the context) is left out. */
    public boolean excludes(String relativePath) {
        boolean excluded = false;
        List<String> parents = parents(relativePath);
        for (Rule rule : rules) {
            // A rule can only change the answer in its own direction.
            if (rule.exception() != excluded) {
                continue;
            }
            boolean match = rule.pattern().matches(relativePath) || parents.stream().anyMatch(rule.pattern()::matches);
            if (match) {
                excluded = !rule.exception();
            }
        }
        return excluded;
    }

    private static List<String> parents(String relativePath) {
        List<String> parents = new ArrayList<>();
        int slash = relativePath.indexOf('/');
        while (slash > 0) {
            parents.add(relativePath.substring(0, slash));
            slash = relativePath.indexOf('/', slash + 1);
        }
        return parents;
    }
}
