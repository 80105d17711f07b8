package dev.claudecage.image.dockerfile;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.claudecage.UserInputException;
import dev.claudecage.json.Json;

import java.nio.file.Path;
import java.time.Duration;
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
 * Reads a Dockerfile into {@link Instruction}s, the way Docker's own parser (BuildKit's
 * dockerfile frontend) does: parser directives at the top ({@code syntax}, {@code escape},
 * {@code check}), comments, line continuations, here-documents in RUN, COPY and ADD, JSON
 * (exec) and shell forms, {@code --flags}. Anything it does not build, or cannot read, is a
 * {@link DockerfileException} naming the file, the line and the instruction. Nothing here looks
 * at the build context or expands variables: that is the builder's job.
 */
public final class DockerfileParser {

    private static final Pattern DIRECTIVE = Pattern.compile("#\\s*([a-zA-Z][a-zA-Z0-9_-]*)\\s*=\\s*(.*?)\\s*");
    private static final Set<String> KNOWN_DIRECTIVES = Set.of("syntax", "escape", "check");
    private static final Pattern KEYWORD_AND_REST = Pattern.compile("(\\S+)(?:\\s+(.*))?", Pattern.DOTALL);
    /** Docker's rule for stage names. */
    private static final Pattern STAGE_NAME = Pattern.compile("[a-z][a-z0-9-_.]*");
    private static final Pattern ARG_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    /** BuildKit's heredoc word: an optional file descriptor, {@code <<} or {@code <<-}, the delimiter. */
    private static final Pattern HEREDOC = Pattern.compile("([0-9]*)<<(-?)([^<]*)");
    private static final Set<String> HEREDOC_KEYWORDS = Set.of("RUN", "COPY", "ADD");
    private static final Pattern URL_SOURCE = Pattern.compile("(?i)(https?)://.*");
    private static final Pattern GIT_SOURCE = Pattern.compile("(?i)(git|ssh)://.*|git@.*|https?://.*\\.git(#.*)?");

    private static final List<String> SUPPORTED = List.of("FROM", "ARG", "ENV", "LABEL", "RUN", "COPY", "ADD",
            "WORKDIR", "USER", "EXPOSE", "ENTRYPOINT", "CMD", "SHELL", "VOLUME", "HEALTHCHECK", "STOPSIGNAL", "ONBUILD",
            "MAINTAINER");
    /** Flags each instruction takes; the repeatable ones may be given more than once. */
    private static final Map<String, Set<String>> FLAGS = Map.of(
            "FROM", Set.of("platform"),
            "RUN", Set.of("mount", "network", "security"),
            "COPY", Set.of("from", "chown", "chmod", "link", "parents", "exclude"),
            "ADD", Set.of("chown", "chmod", "link", "checksum", "keep-git-dir", "exclude"),
            "HEALTHCHECK", Set.of("interval", "timeout", "start-period", "start-interval", "retries"));
    private static final Set<String> REPEATABLE_FLAGS = Set.of("mount", "exclude");
    private static final Set<String> BOOLEAN_FLAGS = Set.of("link", "parents", "keep-git-dir");
    /** Docker's shortest health check interval or timeout (container.MinimumDuration). */
    private static final Duration MINIMUM_HEALTHCHECK_DURATION = Duration.ofMillis(1);

    private final Path file;
    private ShellWords words = new ShellWords('\\');

    private DockerfileParser(Path file) {
        this.file = file;
    }

    /** Parses {@code content}, read from {@code file}; messages name the file as given. */
    public static Dockerfile parse(Path file, String content) {
        return new DockerfileParser(file).parseContent(content);
    }

    /**
     * An ONBUILD trigger that a base image recorded, read when a build starts FROM it; messages
     * name {@code from}, the FROM line that brought it in.
     */
    public static Instruction parseTrigger(Location from, String trigger, char escape) {
        DockerfileParser parser = new DockerfileParser(from.file());
        parser.words = new ShellWords(escape);
        return parser.trigger(from, "ONBUILD " + trigger, trigger);
    }

    /** One instruction's text, continuation lines joined, with the here-documents that follow it. */
    private record LogicalLine(int line, String text, List<Instruction.Heredoc> heredocs) {
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
     * After a RUN, COPY or ADD line that names here-documents ({@code <<EOF}), the lines up to
     * each delimiter are that document, read as they are (no continuations, no comments).
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
            if (trimmed.charAt(trimmed.length() - 1) == words.escape() && index + 1 < lines.length) {
                current.append(trimmed, 0, trimmed.length() - 1);
                continue;
            }
            current.append(trimmed.charAt(trimmed.length() - 1) == words.escape()
                    ? trimmed.substring(0, trimmed.length() - 1) : line);
            String text = current.toString();
            List<Instruction.Heredoc> heredocs = new ArrayList<>();
            for (HeredocWord word : heredocWords(new Location(file, start), text)) {
                StringBuilder content = new StringBuilder();
                boolean terminated = false;
                while (++index < lines.length) {
                    String candidate = word.chomp() ? lines[index].replaceFirst("^\\t+", "") : lines[index];
                    if (candidate.equals(word.name())) {
                        terminated = true;
                        break;
                    }
                    content.append(lines[index]).append('\n');
                }
                if (!terminated) {
                    throw error(new Location(file, start), text, "the here-document <<" + word.name()
                            + " has no line '" + word.name() + "' that ends it");
                }
                heredocs.add(new Instruction.Heredoc(word.name(), content.toString(), word.expand(), word.chomp()));
            }
            logical.add(new LogicalLine(start, text, heredocs));
            current = null;
        }
        if (current != null) {
            logical.add(new LogicalLine(start, current.toString(), List.of()));
        }
        return logical;
    }

    private record HeredocWord(String name, boolean expand, boolean chomp) {
    }

    /**
     * The here-documents a line names, in order: for RUN, COPY and ADD in shell form, each word
     * that is {@code [n]<<[-]DELIMITER}, as BuildKit finds them. A delimiter with quotes in it
     * ({@code <<"EOF"}, {@code <<'EOF'}) is written without them and turns expansion off.
     */
    private List<HeredocWord> heredocWords(Location location, String text) {
        Matcher keyword = KEYWORD_AND_REST.matcher(text.strip());
        if (!keyword.matches() || keyword.group(2) == null
                || !HEREDOC_KEYWORDS.contains(keyword.group(1).toUpperCase(Locale.ROOT))
                || Flags.read(keyword.group(2).strip()).rest().startsWith("[")) {
            return List.of();
        }
        List<HeredocWord> found = new ArrayList<>();
        for (String word : words.split(keyword.group(2))) {
            Matcher heredoc = HEREDOC.matcher(word);
            if (!heredoc.matches() || heredoc.group(3).isEmpty()) {
                continue;
            }
            String delimiter = heredoc.group(3);
            String name;
            try {
                name = words.expand(delimiter, Map.of());
            } catch (IllegalArgumentException e) {
                throw error(location, text, "cannot read the here-document delimiter: " + e.getMessage());
            }
            if (name.isEmpty()) {
                throw error(location, text, "the here-document <<" + delimiter + " has an empty delimiter");
            }
            boolean quoted = delimiter.indexOf('"') >= 0 || delimiter.indexOf('\'') >= 0;
            found.add(new HeredocWord(name, !quoted, heredoc.group(2).equals("-")));
        }
        return found;
    }

    /** Whether a word of a COPY or RUN line is a here-document ({@code <<EOF}), as above. */
    private static boolean isHeredocWord(String word) {
        Matcher heredoc = HEREDOC.matcher(word);
        return heredoc.matches() && !heredoc.group(3).isEmpty();
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
        if (!SUPPORTED.contains(keyword)) {
            throw error(location, text, "unknown instruction '" + matcher.group(1) + "'; the instructions are "
                    + String.join(", ", SUPPORTED));
        }
        if (rest.isEmpty()) {
            throw error(location, text, keyword + " needs arguments");
        }
        if (keyword.equals("ONBUILD")) {
            return onBuild(location, text, rest);
        }
        Flags flags = Flags.read(rest);
        Set<String> allowedFlags = FLAGS.getOrDefault(keyword, Set.of());
        for (var flag : flags.values().entrySet()) {
            if (!allowedFlags.contains(flag.getKey())) {
                throw error(location, text, "the flag --" + flag.getKey() + " is not supported"
                        + (allowedFlags.isEmpty() ? "" : "; " + keyword + " takes --"
                        + String.join(", --", allowedFlags.stream().sorted().toList())));
            }
            if (flag.getValue().size() > 1 && !REPEATABLE_FLAGS.contains(flag.getKey())) {
                throw error(location, text, "the flag --" + flag.getKey() + " is given more than once");
            }
            for (String value : flag.getValue()) {
                if (BOOLEAN_FLAGS.contains(flag.getKey())) {
                    if (value != null && !value.equals("true") && !value.equals("false")) {
                        throw error(location, text, "--" + flag.getKey() + " is true or false, not '" + value + "'");
                    }
                } else if (value == null || value.isEmpty()) {
                    throw error(location, text, "--" + flag.getKey() + " needs a value, as in --" + flag.getKey() + "=VALUE");
                }
            }
        }
        String args = flags.rest();
        if (args.isEmpty()) {
            throw error(location, text, keyword + " needs arguments after its flags");
        }
        return switch (keyword) {
            case "FROM" -> from(location, text, args, flags.single("platform"));
            case "ARG" -> arg(location, text, args);
            case "ENV" -> new Instruction.Env(location, text, keyValues(location, text, "ENV", args));
            case "LABEL" -> new Instruction.Label(location, text, keyValues(location, text, "LABEL", args));
            case "RUN" -> run(location, text, args, flags, logical.heredocs());
            case "COPY", "ADD" -> copy(location, text, keyword.equals("ADD"), args, flags, logical.heredocs());
            case "WORKDIR" -> new Instruction.Workdir(location, text, args);
            case "USER" -> new Instruction.User(location, text, single(location, text, "USER", args));
            case "EXPOSE" -> new Instruction.Expose(location, text, words.split(args));
            case "ENTRYPOINT" -> new Instruction.Entrypoint(location, text, command(location, text, args));
            case "CMD" -> new Instruction.Cmd(location, text, command(location, text, args));
            case "SHELL" -> shell(location, text, args);
            case "VOLUME" -> volume(location, text, args);
            case "HEALTHCHECK" -> healthcheck(location, text, args, flags);
            case "STOPSIGNAL" -> new Instruction.StopSignal(location, text, single(location, text, "STOPSIGNAL", args));
            case "MAINTAINER" -> new Instruction.Maintainer(location, text, args);
            default -> throw new IllegalStateException("keyword " + keyword + " is listed as supported but not parsed");
        };
    }

    /**
     * Leading {@code --name=value} or {@code --name} words (a null value), then the rest of the
     * line untouched. A flag may appear more than once; whether it may is checked by the caller.
     */
    private record Flags(Map<String, List<String>> values, String rest) {
        static Flags read(String args) {
            Map<String, List<String>> values = new LinkedHashMap<>();
            String rest = args;
            while (rest.startsWith("--")) {
                int end = 0;
                while (end < rest.length() && !Character.isWhitespace(rest.charAt(end))) {
                    end++;
                }
                String flag = rest.substring(2, end);
                int equals = flag.indexOf('=');
                values.computeIfAbsent(equals < 0 ? flag : flag.substring(0, equals), name -> new ArrayList<>())
                        .add(equals < 0 ? null : flag.substring(equals + 1));
                rest = rest.substring(end).strip();
            }
            return new Flags(values, rest);
        }

        String single(String name) {
            List<String> given = values.get(name);
            return given == null ? null : given.get(0);
        }

        List<String> all(String name) {
            return values.getOrDefault(name, List.of());
        }

        boolean bool(String name) {
            return values.containsKey(name) && !"false".equals(single(name));
        }
    }

    private Instruction run(Location location, String text, String args, Flags flags, List<Instruction.Heredoc> heredocs) {
        List<RunMount> mounts = new ArrayList<>();
        for (String mount : flags.all("mount")) {
            try {
                mounts.add(RunMount.parse(mount));
            } catch (IllegalArgumentException e) {
                throw error(location, text, e.getMessage());
            }
        }
        Instruction.RunNetwork network = switch (String.valueOf(flags.single("network"))) {
            case "null", "default", "host" -> Instruction.RunNetwork.DEFAULT;
            case "none" -> Instruction.RunNetwork.NONE;
            default -> throw error(location, text, "--network=" + flags.single("network") + " is none of default, none, host");
        };
        String security = flags.single("security");
        if (security != null && !security.equals("sandbox")) {
            throw error(location, text, "--security=" + security + " is not supported: build steps always run in the "
                    + "sandbox (--security=sandbox)", "do what needs privileges outside the build, or on the image after it");
        }
        return new Instruction.Run(location, text, command(location, text, args), heredocs, mounts, network);
    }

    /** ONBUILD INSTRUCTION: the trigger is read now (so a mistake shows here) and recorded as written. */
    private Instruction onBuild(Location location, String text, String trigger) {
        return new Instruction.OnBuild(location, text, trigger, trigger(location, text, trigger));
    }

    private Instruction trigger(Location location, String text, String trigger) {
        Matcher matcher = KEYWORD_AND_REST.matcher(trigger);
        String keyword = matcher.matches() ? matcher.group(1).toUpperCase(Locale.ROOT) : "";
        if (Set.of("ONBUILD", "FROM", "MAINTAINER").contains(keyword)) {
            throw error(location, text, "ONBUILD cannot trigger " + keyword + ", as in Docker");
        }
        if (!heredocWords(location, trigger).isEmpty()) {
            throw error(location, text, "ONBUILD triggers with here-documents are not supported",
                    "put the script in the build context and COPY it in the trigger");
        }
        return parseInstruction(new LogicalLine(location.line(), trigger, List.of()));
    }

    private Instruction volume(Location location, String text, String args) {
        List<String> paths = args.startsWith("[") ? jsonArray(location, text, args) : words.split(args);
        if (paths.isEmpty() || paths.stream().anyMatch(String::isBlank)) {
            throw error(location, text, "VOLUME needs paths, none of them empty");
        }
        return new Instruction.Volume(location, text, paths);
    }

    /** HEALTHCHECK [--interval=D --timeout=D --start-period=D --start-interval=D --retries=N] CMD command, or NONE. */
    private Instruction healthcheck(Location location, String text, String args, Flags flags) {
        Matcher matcher = KEYWORD_AND_REST.matcher(args);
        String type = matcher.matches() ? matcher.group(1).toUpperCase(Locale.ROOT) : "";
        String command = matcher.matches() && matcher.group(2) != null ? matcher.group(2).strip() : "";
        if (type.equals("NONE")) {
            if (!command.isEmpty()) {
                throw error(location, text, "HEALTHCHECK NONE takes no arguments");
            }
            return new Instruction.Healthcheck(location, text, null, null, null, null, null, null);
        }
        if (!type.equals("CMD")) {
            throw error(location, text, "HEALTHCHECK takes CMD command or NONE, not '" + matcher.group(1) + "'");
        }
        if (command.isEmpty()) {
            throw error(location, text, "HEALTHCHECK CMD needs a command");
        }
        Integer retries = null;
        if (flags.single("retries") != null) {
            try {
                retries = Integer.parseInt(flags.single("retries"));
            } catch (NumberFormatException e) {
                throw error(location, text, "--retries=" + flags.single("retries") + " is not a whole number");
            }
            if (retries < 0) {
                throw error(location, text, "--retries cannot be negative");
            }
        }
        return new Instruction.Healthcheck(location, text, command(location, text, command),
                healthcheckDuration(location, text, flags, "interval"), healthcheckDuration(location, text, flags, "timeout"),
                healthcheckDuration(location, text, flags, "start-period"),
                healthcheckDuration(location, text, flags, "start-interval"), retries);
    }

    /** A duration flag as Docker reads it: Go's syntax, not negative, 0 meaning the default, else at least 1ms. */
    private static Duration healthcheckDuration(Location location, String text, Flags flags, String name) {
        String value = flags.single(name);
        if (value == null) {
            return null;
        }
        Duration duration;
        try {
            duration = GoDuration.parse(value);
        } catch (IllegalArgumentException e) {
            throw error(location, text, "--" + name + "=" + value + ": " + e.getMessage());
        }
        if (duration.isNegative()) {
            throw error(location, text, "--" + name + " cannot be negative");
        }
        if (!duration.isZero() && duration.compareTo(MINIMUM_HEALTHCHECK_DURATION) < 0) {
            throw error(location, text, "--" + name + " cannot be less than 1ms");
        }
        return duration.isZero() ? null : duration;
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

    private Instruction copy(Location location, String text, boolean add, String args, Flags flags,
                             List<Instruction.Heredoc> heredocs) {
        String keyword = add ? "ADD" : "COPY";
        boolean json = args.startsWith("[");
        List<String> parts = json ? jsonArray(location, text, args) : words.split(args);
        if (parts.size() < 2) {
            throw error(location, text, keyword + " needs at least one source and a destination");
        }
        List<String> sources = new ArrayList<>();
        List<Instruction.Heredoc> inline = new ArrayList<>();
        int nextHeredoc = 0;
        for (String source : parts.subList(0, parts.size() - 1)) {
            if (!json && isHeredocWord(source) && nextHeredoc < heredocs.size()) {
                inline.add(heredocs.get(nextHeredoc++));
            } else {
                sources.add(source);
            }
        }
        if (add) {
            sources.forEach(source -> refuseGitSource(location, text, source));
        }
        String checksum = flags.single("checksum");
        if (checksum != null) {
            if (!checksum.matches("sha256:[0-9a-f]{64}|\\$.*|\\$\\{.*")) {
                throw error(location, text, "--checksum=" + checksum + " is not sha256:HEX (64 lower-case hex digits)",
                        "get it with sha256sum FILE");
            }
            if (sources.size() != 1 || !URL_SOURCE.matcher(sources.get(0)).matches()) {
                throw error(location, text, "--checksum is for one URL source, as in ADD --checksum=sha256:HEX "
                        + "https://example.com/file /dest");
            }
        }
        if (flags.bool("keep-git-dir")) {
            throw error(location, text, "--keep-git-dir is for ADD of a git repository, which is not supported",
                    gitHint());
        }
        return new Instruction.Copy(location, text, add, sources, inline, parts.get(parts.size() - 1),
                flags.single("from"), flags.single("chown"), flags.single("chmod"), flags.bool("link"),
                flags.bool("parents"), flags.all("exclude"), checksum);
    }

    /** Whether an ADD source is a URL the builder downloads (http or https). */
    public static boolean isUrl(String source) {
        return URL_SOURCE.matcher(source).matches() && !GIT_SOURCE.matcher(source).matches();
    }

    /**
     * ADD of a git repository runs git on the host side, against a repository that decides what it
     * sends: refused (also after expansion).
     */
    public static void refuseGitSource(Location location, String text, String source) {
        if (GIT_SOURCE.matcher(source).matches()) {
            throw new DockerfileException(location, text, "ADD of a git repository is not supported ('" + source + "')",
                    gitHint());
        }
    }

    private static String gitHint() {
        return "clone it before the build and COPY it in, or clone it in a RUN step and check out a fixed commit";
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
