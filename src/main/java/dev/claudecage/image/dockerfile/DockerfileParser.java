package dev.claudecage.image.dockerfile;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.claudecage.UserInputException;
import dev.claudecage.json.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a Dockerfile into {@link Instruction}s, the way Docker's own parser does: parser
 * directives at the top ({@code syntax}, {@code escape}, {@code check}), comments, line
 * continuations, JSON (exec) and shell forms, {@code --flags}. Anything it does not build, or
 * cannot read, is a {@link DockerfileException} naming the file, the line and the instruction.
 * Nothing here looks at the build context or expands variables: that is the builder's job.
 */
public final class DockerfileParser {

    private static final Pattern DIRECTIVE = Pattern.compile("#\\s*([a-zA-Z][a-zA-Z0-9_-]*)\\s*=\\s*(.*?)\\s*");
    private static final Set<String> KNOWN_DIRECTIVES = Set.of("syntax", "escape", "check");
    private static final Pattern KEYWORD_AND_REST = Pattern.compile("(\\S+)(?:\\s+(.*))?", Pattern.DOTALL);
    /** Docker's rule for stage names. */
    private static final Pattern STAGE_NAME = Pattern.compile("[a-z][a-z0-9-_.]*");
    private static final Pattern ARG_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern HEREDOC = Pattern.compile("(^|\\s)<<-?(['\"]?)[A-Za-z_][A-Za-z0-9_]*\\2");
    private static final Pattern REMOTE_SOURCE = Pattern.compile("(?i)(https?|ftp|git|ssh)://.*|git@.*");

    private static final List<String> SUPPORTED = List.of("FROM", "ARG", "ENV", "LABEL", "RUN", "COPY", "ADD",
            "WORKDIR", "USER", "EXPOSE", "ENTRYPOINT", "CMD", "SHELL");
    private static final Map<String, String> UNSUPPORTED = Map.of(
            "VOLUME", "a cage sees only the host paths its user mounts (--mount), so images declare no volumes",
            "HEALTHCHECK", "cages run no health checks",
            "ONBUILD", "triggers for later builds are not supported",
            "STOPSIGNAL", "cages are stopped with SIGTERM, then SIGKILL",
            "MAINTAINER", "it is deprecated; use LABEL maintainer=\"...\"");

    private final Path file;
    private ShellWords words = new ShellWords('\\');

    private DockerfileParser(Path file) {
        this.file = file;
    }

    /** Reads and parses {@code file}; messages name it as given. */
    public static Dockerfile parse(Path file) {
        String content;
        try {
            content = Files.readString(file);
        } catch (IOException e) {
            throw new UserInputException("cannot read Dockerfile " + file + ": " + e.getMessage(),
                    "pass the Dockerfile with -f FILE, or a context directory that holds one");
        }
        return parse(file, content);
    }

    public static Dockerfile parse(Path file, String content) {
        return new DockerfileParser(file).parseContent(content);
    }

    private record LogicalLine(int line, String text) {
    }

    private Dockerfile parseContent(String content) {
        String[] lines = content.split("\r?\n", -1);
        int first = readDirectives(lines);
        List<Instruction.Arg> globalArgs = new ArrayList<>();
        List<Stage> stages = new ArrayList<>();
        Instruction.From from = null;
        List<Instruction> body = new ArrayList<>();
        Set<String> stageNames = new HashSet<>();
        for (LogicalLine logical : logicalLines(lines, first)) {
            Instruction instruction = parseInstruction(logical);
            if (instruction instanceof Instruction.From newFrom) {
                if (from != null) {
                    stages.add(new Stage(stages.size(), from, body));
                    body = new ArrayList<>();
                }
                if (newFrom.stageName() != null && !stageNames.add(newFrom.stageName())) {
                    throw error(newFrom.location(), newFrom.text(),
                            "the stage name '" + newFrom.stageName() + "' is already taken by an earlier stage");
                }
                from = newFrom;
            } else if (from == null) {
                if (!(instruction instanceof Instruction.Arg arg)) {
                    throw error(instruction.location(), instruction.text(),
                            instruction.keyword() + " comes before the first FROM; only ARG may");
                }
                globalArgs.add(arg);
            } else {
                body.add(instruction);
            }
        }
        if (from == null) {
            throw new UserInputException(file + ": the Dockerfile has no FROM instruction",
                    "start it with FROM IMAGE, e.g. FROM debian:bookworm");
        }
        stages.add(new Stage(stages.size(), from, body));
        return new Dockerfile(file, words.escape(), globalArgs, stages);
    }

    /**
     * Parser directives: comment lines of the form {@code # key=value} at the very top. The first
     * line that is not a known directive ends them, as in Docker.
     */
    private int readDirectives(String[] lines) {
        Map<String, String> seen = new HashMap<>();
        int index = 0;
        for (; index < lines.length; index++) {
            Matcher matcher = DIRECTIVE.matcher(lines[index]);
            if (!matcher.matches()) {
                break;
            }
            String key = matcher.group(1).toLowerCase(Locale.ROOT);
            if (!KNOWN_DIRECTIVES.contains(key)) {
                break;
            }
            Location location = new Location(file, index + 1);
            String value = matcher.group(2);
            if (seen.put(key, value) != null) {
                throw error(location, lines[index], "the '" + key + "' directive may be given only once");
            }
            switch (key) {
                case "escape" -> {
                    if (!value.equals("\\") && !value.equals("`")) {
                        throw error(location, lines[index], "the escape character must be \\ or `, not '" + value + "'");
                    }
                    words = new ShellWords(value.charAt(0));
                }
                case "syntax" -> {
                    if (!value.matches("(docker\\.io/)?docker/dockerfile(-upstream)?(:[^@\\s]+)?(@sha256:[0-9a-f]{64})?")) {
                        throw error(location, lines[index], "the syntax directive asks for the frontend '" + value
                                + "'; claude-cage reads Dockerfiles itself and understands only docker/dockerfile");
                    }
                }
                default -> {
                    // check=...: settings of Docker's linter, which has no counterpart here.
                }
            }
        }
        return index;
    }

    /**
     * Joins continued lines (ending in the escape character) and drops comments and blank lines,
     * also those inside a continued instruction, as Docker does. Each result keeps its first line.
     */
    private List<LogicalLine> logicalLines(String[] lines, int first) {
        List<LogicalLine> logical = new ArrayList<>();
        StringBuilder current = null;
        int start = 0;
        for (int index = first; index < lines.length; index++) {
            String line = lines[index];
            String stripped = line.strip();
            if (stripped.isEmpty() || stripped.startsWith("#")) {
                continue;
            }
            if (current == null) {
                current = new StringBuilder();
                start = index + 1;
            }
            String trimmed = line.stripTrailing();
            if (trimmed.charAt(trimmed.length() - 1) == words.escape()) {
                current.append(trimmed, 0, trimmed.length() - 1);
                continue;
            }
            current.append(line);
            logical.add(new LogicalLine(start, current.toString()));
            current = null;
        }
        if (current != null) {
            logical.add(new LogicalLine(start, current.toString()));
        }
        return logical;
    }

    private Instruction parseInstruction(LogicalLine logical) {
        String text = logical.text().strip();
        Location location = new Location(file, logical.line());
        Matcher matcher = KEYWORD_AND_REST.matcher(text);
        if (!matcher.matches()) {
            throw error(location, text, "cannot read this line as an instruction");
        }
        String keyword = matcher.group(1).toUpperCase(Locale.ROOT);
        String rest = matcher.group(2) == null ? "" : matcher.group(2).strip();
        if (UNSUPPORTED.containsKey(keyword)) {
            throw error(location, text, keyword + " is not supported: " + UNSUPPORTED.get(keyword));
        }
        if (!SUPPORTED.contains(keyword)) {
            throw error(location, text, "unknown instruction '" + matcher.group(1) + "'; supported: "
                    + String.join(", ", SUPPORTED));
        }
        if (rest.isEmpty()) {
            throw error(location, text, keyword + " needs arguments");
        }
        if (Set.of("RUN", "COPY", "ADD").contains(keyword) && HEREDOC.matcher(rest).find()) {
            throw error(location, text, "heredocs (<<EOF) are not supported",
                    "put the script or file in the build context and COPY it");
        }
        Flags flags = Flags.read(rest);
        Set<String> allowedFlags = switch (keyword) {
            case "FROM" -> Set.of("platform");
            case "COPY" -> Set.of("from", "chown", "chmod", "link");
            case "ADD" -> Set.of("chown", "chmod", "link");
            default -> Set.of();
        };
        for (String flag : flags.values().keySet()) {
            if (!allowedFlags.contains(flag)) {
                throw error(location, text, "the flag --" + flag + " is not supported"
                        + (allowedFlags.isEmpty() ? "" : "; " + keyword + " takes --" + String.join(", --", allowedFlags)));
            }
        }
        String args = flags.rest();
        if (args.isEmpty()) {
            throw error(location, text, keyword + " needs arguments after its flags");
        }
        return switch (keyword) {
            case "FROM" -> from(location, text, args, flags.values().get("platform"));
            case "ARG" -> arg(location, text, args);
            case "ENV" -> new Instruction.Env(location, text, keyValues(location, text, "ENV", args));
            case "LABEL" -> new Instruction.Label(location, text, keyValues(location, text, "LABEL", args));
            case "RUN" -> new Instruction.Run(location, text, command(location, text, args));
            case "COPY", "ADD" -> copy(location, text, keyword.equals("ADD"), args, flags.values());
            case "WORKDIR" -> new Instruction.Workdir(location, text, args);
            case "USER" -> new Instruction.User(location, text, single(location, text, "USER", args));
            case "EXPOSE" -> new Instruction.Expose(location, text, words.split(args));
            case "ENTRYPOINT" -> new Instruction.Entrypoint(location, text, command(location, text, args));
            case "CMD" -> new Instruction.Cmd(location, text, command(location, text, args));
            case "SHELL" -> shell(location, text, args);
            default -> throw new IllegalStateException("keyword " + keyword + " is listed as supported but not parsed");
        };
    }

    /** Leading {@code --name=value} or {@code --name} words, then the rest of the line untouched. */
    private record Flags(Map<String, String> values, String rest) {
        static Flags read(String args) {
            Map<String, String> values = new LinkedHashMap<>();
            String rest = args;
            while (rest.startsWith("--")) {
                int end = 0;
                while (end < rest.length() && !Character.isWhitespace(rest.charAt(end))) {
                    end++;
                }
                String flag = rest.substring(2, end);
                int equals = flag.indexOf('=');
                values.put(equals < 0 ? flag : flag.substring(0, equals), equals < 0 ? "" : flag.substring(equals + 1));
                rest = rest.substring(end).strip();
            }
            return new Flags(values, rest);
        }
    }

    private Instruction from(Location location, String text, String args, String platform) {
        List<String> parts = words.split(args);
        String stageName = null;
        if (parts.size() == 3 && parts.get(1).equalsIgnoreCase("AS")) {
            stageName = parts.get(2).toLowerCase(Locale.ROOT);
            if (!STAGE_NAME.matcher(stageName).matches()) {
                throw error(location, text, "'" + parts.get(2) + "' is not a valid stage name: it must start with a letter "
                        + "and hold only letters, digits, '-', '_' and '.'");
            }
        } else if (parts.size() != 1) {
            throw error(location, text, "FROM takes an image and an optional 'AS name'");
        }
        return new Instruction.From(location, text, parts.get(0), stageName, platform);
    }

    private Instruction arg(Location location, String text, String args) {
        List<Instruction.Arg.Declaration> declarations = new ArrayList<>();
        for (String word : words.split(args)) {
            int equals = word.indexOf('=');
            String name = equals < 0 ? word : word.substring(0, equals);
            if (!ARG_NAME.matcher(name).matches()) {
                throw error(location, text, "'" + name + "' is not a valid ARG name (letters, digits and _)");
            }
            declarations.add(new Instruction.Arg.Declaration(name, equals < 0 ? null : word.substring(equals + 1)));
        }
        return new Instruction.Arg(location, text, declarations);
    }

    /**
     * ENV and LABEL: {@code KEY=VALUE ...}, or the old form {@code KEY VALUE} where the value is
     * the rest of the line; Docker picks the old form when the first word has no '='.
     */
    private List<Instruction.KeyValue> keyValues(Location location, String text, String keyword, String args) {
        List<String> parts = words.split(args);
        if (!parts.get(0).contains("=")) {
            String value = args.substring(parts.get(0).length()).strip();
            if (value.isEmpty()) {
                throw error(location, text, keyword + " " + parts.get(0) + " has no value; write " + keyword + " KEY=VALUE");
            }
            return List.of(new Instruction.KeyValue(parts.get(0), value));
        }
        List<Instruction.KeyValue> pairs = new ArrayList<>();
        for (String word : parts) {
            int equals = word.indexOf('=');
            if (equals <= 0) {
                throw error(location, text, "'" + word + "' is not KEY=VALUE"
                        + (equals == 0 ? " (the key is empty)" : "; in the KEY=VALUE form every word needs one"));
            }
            pairs.add(new Instruction.KeyValue(word.substring(0, equals), word.substring(equals + 1)));
        }
        return pairs;
    }

    private Instruction.Command command(Location location, String text, String args) {
        if (args.startsWith("[")) {
            return new Instruction.Command.ExecForm(jsonArray(location, text, args));
        }
        return new Instruction.Command.ShellForm(args);
    }

    private Instruction shell(Location location, String text, String args) {
        if (!args.startsWith("[")) {
            throw error(location, text, "SHELL takes a JSON array, e.g. SHELL [\"/bin/bash\", \"-c\"]");
        }
        List<String> shell = jsonArray(location, text, args);
        if (shell.isEmpty()) {
            throw error(location, text, "SHELL needs at least the shell's path");
        }
        return new Instruction.Shell(location, text, shell);
    }

    /**
     * An exec-form JSON array of strings. Docker silently runs a malformed array through the
     * shell instead; a typo there is never what was meant, so it is an error here.
     */
    private List<String> jsonArray(Location location, String text, String args) {
        JsonNode node;
        try {
            node = Json.mapper().readTree(args);
        } catch (JsonProcessingException e) {
            throw error(location, text, "the exec form must be a JSON array of strings: " + e.getOriginalMessage(),
                    "use double quotes, e.g. [\"claude\", \"--version\"]");
        }
        if (node == null || !node.isArray()) {
            throw error(location, text, "the exec form must be a JSON array of strings");
        }
        List<String> values = new ArrayList<>();
        for (JsonNode element : node) {
            if (!element.isTextual()) {
                throw error(location, text, "the exec form must be a JSON array of strings, but holds " + element);
            }
            values.add(element.asText());
        }
        return values;
    }

    private Instruction copy(Location location, String text, boolean add, String args, Map<String, String> flags) {
        String keyword = add ? "ADD" : "COPY";
        List<String> parts = args.startsWith("[") ? jsonArray(location, text, args) : words.split(args);
        if (parts.size() < 2) {
            throw error(location, text, keyword + " needs at least one source and a destination");
        }
        List<String> sources = parts.subList(0, parts.size() - 1);
        if (add) {
            for (String source : sources) {
                requireLocalSource(location, text, source);
            }
        }
        for (String flag : List.of("from", "chown", "chmod")) {
            if ("".equals(flags.get(flag))) {
                throw error(location, text, "--" + flag + " needs a value, as in --" + flag + "=VALUE");
            }
        }
        return new Instruction.Copy(location, text, add, sources, parts.get(parts.size() - 1),
                flags.get("from"), flags.get("chown"), flags.get("chmod"));
    }

    /** ADD of a URL or a git repository downloads at build time, unchecked: refused (also after expansion). */
    public static void requireLocalSource(Location location, String text, String source) {
        if (REMOTE_SOURCE.matcher(source).matches()) {
            throw new DockerfileException(location, text, "ADD of a URL or git repository is not supported ('" + source
                    + "'): what it downloads is not checked",
                    "download it in a RUN step and check its hash (curl -fsSLO URL && echo 'SHA256  FILE' | sha256sum -c), "
                            + "or put the file in the build context and COPY it");
        }
    }

    private String single(Location location, String text, String keyword, String args) {
        List<String> parts = words.split(args);
        if (parts.size() != 1) {
            throw error(location, text, keyword + " takes exactly one argument");
        }
        return parts.get(0);
    }

    private static DockerfileException error(Location location, String text, String problem) {
        return new DockerfileException(location, text, problem);
    }

    private static DockerfileException error(Location location, String text, String problem, String hint) {
        return new DockerfileException(location, text, problem, hint);
    }
}
