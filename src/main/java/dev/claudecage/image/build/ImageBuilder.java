package dev.claudecage.image.build;

import dev.claudecage.CageException;
import dev.claudecage.UserInputException;
import dev.claudecage.host.FileLock;
import dev.claudecage.image.dockerfile.Dockerfile;
import dev.claudecage.image.dockerfile.DockerfileException;
import dev.claudecage.image.dockerfile.DockerfileParser;
import dev.claudecage.image.dockerfile.Instruction;
import dev.claudecage.image.dockerfile.ShellWords;
import dev.claudecage.image.dockerfile.Stage;
import dev.claudecage.image.registry.ImageReference;
import dev.claudecage.image.store.BuildCache;
import dev.claudecage.image.store.Architecture;
import dev.claudecage.image.store.Digest;
import dev.claudecage.image.store.ImageConfig;
import dev.claudecage.image.store.ImageName;
import dev.claudecage.image.store.ImageStore;
import dev.claudecage.image.store.StoredImage;
import dev.claudecage.process.ProcessRunner;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Builds an image from a Dockerfile without Docker: parses it, builds the stages the last one
 * needs, step by step, and stores the result under its name. Each step that writes files (RUN,
 * COPY, ADD, WORKDIR) becomes one layer; each step is looked up in the build cache first (see
 * {@link StepKey}), so a rebuild with nothing changed runs nothing. A failed step leaves no
 * image, no layer and no mount behind.
 */
public final class ImageBuilder {

    /** What to build. */
    public record Request(Path dockerfile, Path context, ImageName name, Map<String, String> buildArgs, boolean noCache) {
        public Request {
            buildArgs = Map.copyOf(buildArgs);
        }
    }

    /** What was built, and how much of it came from the cache. */
    public record Result(ImageName name, Digest id, int steps, int cachedSteps, Duration elapsed) {
    }

    private static final List<String> DEFAULT_SHELL = List.of("/bin/sh", "-c");
    /** ARGs Docker lets every build pass without declaring them. */
    private static final Set<String> PREDEFINED_ARGS = Set.of("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy",
            "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy");
    private static final Pattern PORT = Pattern.compile("([0-9]{1,5})(?:-([0-9]{1,5}))?(?:/(tcp|udp|sctp))?",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern OCTAL_MODE = Pattern.compile("[0-7]{3,4}");

    private final ImageStore store;
    private final BuildSandbox sandbox;
    private final BaseImages bases;
    private final ImagePuller puller;
    private final BuildProgress progress;

    public ImageBuilder(BuildSandbox sandbox, ShippedFiles shipped, ProcessRunner runner, ImagePuller puller,
                        BuildProgress progress) {
        this.store = sandbox.store();
        this.sandbox = sandbox;
        this.bases = new BaseImages(store, shipped, runner);
        this.puller = puller;
        this.progress = progress;
    }

    public Result build(Request request) {
        long started = System.nanoTime();
        Dockerfile dockerfile = DockerfileParser.parse(request.dockerfile());
        if (!Files.isDirectory(request.context())) {
            throw new UserInputException("the build context " + request.context() + " is not a directory",
                    "pass the directory the Dockerfile's COPY sources are in");
        }
        SourceTree context = SourceTree.context(request.context());
        FileLock lock = store.lock(progress::note);
        try {
            store.clearWorkDirectories(progress::note);
            Build build = new Build(dockerfile, context, request);
            Digest id = build.run();
            store.tag(request.name(), id);
            build.warnAboutUnusedArgs();
            return new Result(request.name(), id, build.number, build.cached, Duration.ofNanos(System.nanoTime() - started));
        } finally {
            lock.close();
        }
    }

    /** One build: its Dockerfile, the stages built so far, and the step count. */
    private final class Build {
        private final Dockerfile dockerfile;
        private final SourceTree context;
        private final Request request;
        private final ShellWords words;
        private final Map<String, String> globalArgs = new LinkedHashMap<>();
        private final Set<String> declaredGlobalArgs = new HashSet<>();
        private final Set<String> usedBuildArgs = new HashSet<>();
        private final Map<Integer, StageState> stages = new HashMap<>();
        private int total;
        private int number;
        private int cached;

        Build(Dockerfile dockerfile, SourceTree context, Request request) {
            this.dockerfile = dockerfile;
            this.context = context;
            this.request = request;
            this.words = new ShellWords(dockerfile.escape());
        }

        Digest run() {
            for (Instruction.Arg arg : dockerfile.globalArgs()) {
                for (Instruction.Arg.Declaration declaration : arg.declarations()) {
                    declaredGlobalArgs.add(declaration.name());
                    String value = argValue(declaration, null, globalArgs, arg);
                    if (value != null) {
                        globalArgs.put(declaration.name(), value);
                    }
                }
            }
            Set<Integer> needed = new TreeSet<>();
            addNeeded(dockerfile.target(), needed);
            total = needed.stream().mapToInt(index -> 1 + dockerfile.stages().get(index).instructions().size()).sum();
            StageState last = null;
            for (int index : needed) {
                last = buildStage(dockerfile.stages().get(index));
                stages.put(index, last);
            }
            ImageConfig image = last.image();
            return store.commitImage(new ImageConfig(Architecture.host(), ImageConfig.LINUX, image.created(), image.config(),
                    image.rootfs(), image.history()));
        }

        /** The target and the stages it names in FROM and COPY --from, as far as global ARGs tell. */
        private void addNeeded(Stage stage, Set<Integer> needed) {
            if (!needed.add(stage.index())) {
                return;
            }
            List<String> references = new ArrayList<>(List.of(stage.from().image()));
            stage.instructions().stream()
                    .filter(instruction -> instruction instanceof Instruction.Copy copy && copy.from() != null)
                    .forEach(instruction -> references.add(((Instruction.Copy) instruction).from()));
            for (String reference : references) {
                String name = expandQuietly(reference, globalArgs);
                dockerfile.stageNamed(name, stage.index()).ifPresent(earlier -> addNeeded(earlier, needed));
            }
        }

        private String expandQuietly(String word, Map<String, String> variables) {
            try {
                return words.expand(word, variables);
            } catch (IllegalArgumentException e) {
                return word;
            }
        }

        private StageState buildStage(Stage stage) {
            StageState state = from(stage);
            for (Instruction instruction : stage.instructions()) {
                try {
                    state = apply(state, instruction);
                } catch (IllegalArgumentException e) {
                    throw new DockerfileException(instruction.location(), instruction.text(), e.getMessage());
                } catch (IOException e) {
                    throw new CageException(instruction.location() + ": " + instruction.keyword() + " failed: " + e.getMessage());
                }
            }
            return state;
        }

        private StageState from(Stage stage) {
            Instruction.From from = stage.from();
            String reference;
            try {
                reference = words.expand(from.image(), globalArgs);
                if (from.platform() != null) {
                    requireHostPlatform(words.expand(from.platform(), globalArgs));
                }
            } catch (IllegalArgumentException e) {
                throw new DockerfileException(from.location(), from.text(), e.getMessage());
            }
            BuildProgress.Step step = progress.start(++number, total, "FROM " + reference
                    + (from.stageName() != null ? " AS " + from.stageName() : ""));
            var earlier = dockerfile.stageNamed(reference, stage.index());
            if (earlier.isPresent()) {
                cached++;
                step.cached();
                return StageState.from(stages.get(earlier.get().index()).image());
            }
            if (reference.equals("scratch")) {
                step.done();
                return StageState.from(new ImageConfig(Architecture.host(), ImageConfig.LINUX, null, null, null, null));
            }
            return StageState.from(image(reference, from, step).config());
        }

        /**
         * A base image, from the first place that has it: the store; debootstrap, for a Debian
         * base; a pull from its registry. The step is ended.
         */
        private StoredImage image(String reference, Instruction instruction, BuildProgress.Step step) {
            var stored = store.find(reference);
            if (stored.isPresent()) {
                cached++;
                step.cached();
                return stored.get();
            }
            ImageReference pullable;
            try {
                pullable = ImageReference.parse(reference);
            } catch (UserInputException e) {
                step.failed(List.of());
                throw new DockerfileException(instruction.location(), instruction.text(), e.getMessage(), e.hint());
            }
            ImageName name = pullable.localName();
            var pulledBefore = pullable.digest() != null ? store.find(name.toString()) : Optional.<StoredImage>empty();
            if (pulledBefore.isPresent()) {
                cached++;
                step.cached();
                return pulledBefore.get();
            }
            if (BaseImages.canMake(name)) {
                try {
                    StoredImage made = bases.make(name, step);
                    step.done();
                    return made;
                } catch (StepFailedException e) {
                    step.failed(e.outputTail());
                    throw e;
                }
            }
            try {
                StoredImage pulled = puller.pull(pullable, step::output);
                step.done();
                return pulled;
            } catch (CageException e) {
                step.failed(List.of());
                String problem = "the image '" + reference + "' is not in the store, debootstrap makes only "
                        + "debian:SUITE[-slim], and the pull from " + pullable.registry() + " failed: " + e.getMessage();
                String hint = (e.hint() != null ? e.hint() + "; or " : "") + "build it (claude-cage build -t " + name
                        + " CONTEXT), or import it: docker save IMAGE -o image.tar, then claude-cage image import "
                        + "image.tar --name " + name;
                if (e instanceof UserInputException) {
                    throw new DockerfileException(instruction.location(), instruction.text(), problem, hint);
                }
                throw new CageException(instruction.location() + ": " + DockerfileException.abbreviate(instruction.text())
                        + ": " + problem, hint, e);
            }
        }

        private void requireHostPlatform(String platform) {
            String host = ImageConfig.LINUX + "/" + Architecture.host();
            if (!platform.equals(host)) {
                throw new IllegalArgumentException("--platform=" + platform + " cannot be built here: builds run natively, on "
                        + host);
            }
        }

        private StageState apply(StageState state, Instruction instruction) throws IOException {
            Map<String, String> variables = state.variables();
            ImageConfig.Settings settings = state.settings();
            if (instruction instanceof Instruction.Arg arg) {
                StageState next = state;
                for (Instruction.Arg.Declaration declaration : arg.declarations()) {
                    next = next.withArg(declaration.name(), argValue(declaration, globalArgs, next.variables(), arg));
                }
                // As written: values can be long (certificates) or private. The RUN steps' keys hold them.
                return settingsStep(next, instruction, DockerfileException.abbreviate(arg.text()), next.settings());
            }
            if (instruction instanceof Instruction.Env env) {
                for (Instruction.KeyValue pair : env.pairs()) {
                    settings = settings.withEnv(words.expand(pair.key(), variables), words.expand(pair.value(), variables));
                }
                return settingsStep(state, instruction, describe(instruction, variables, env.pairs()), settings);
            }
            if (instruction instanceof Instruction.Label label) {
                for (Instruction.KeyValue pair : label.pairs()) {
                    settings = settings.withLabel(words.expand(pair.key(), variables), words.expand(pair.value(), variables));
                }
                return settingsStep(state, instruction, describe(instruction, variables, label.pairs()), settings);
            }
            if (instruction instanceof Instruction.User user) {
                String value = words.expand(user.user(), variables);
                return settingsStep(state, instruction, "USER " + value, settings.withUser(value));
            }
            if (instruction instanceof Instruction.Expose expose) {
                List<String> ports = new ArrayList<>();
                for (String word : expose.ports()) {
                    ports.addAll(ports(words.expand(word, variables)));
                }
                for (String port : ports) {
                    settings = settings.withExposedPort(port);
                }
                return settingsStep(state, instruction, "EXPOSE " + String.join(" ", ports), settings);
            }
            if (instruction instanceof Instruction.Cmd cmd) {
                List<String> command = command(cmd.command(), settings);
                return settingsStep(state.withCmdSet(), instruction, "CMD " + command, settings.withCmd(command));
            }
            if (instruction instanceof Instruction.Entrypoint entrypoint) {
                List<String> command = command(entrypoint.command(), settings);
                ImageConfig.Settings next = settings.withEntrypoint(command);
                if (state.cmdSet()) {
                    next = next.withCmd(settings.cmd());
                }
                return settingsStep(state, instruction, "ENTRYPOINT " + command, next);
            }
            if (instruction instanceof Instruction.Shell shell) {
                return settingsStep(state, instruction, "SHELL " + shell.shell(), settings.withShell(shell.shell()));
            }
            if (instruction instanceof Instruction.Workdir workdir) {
                return workdir(state, workdir, variables);
            }
            if (instruction instanceof Instruction.Run run) {
                return run(state, run);
            }
            if (instruction instanceof Instruction.Copy copy) {
                return copy(state, copy, variables);
            }
            throw new IllegalStateException("no build step for " + instruction.keyword());
        }

        /**
         * An ARG's value: --build-arg first, then the declared default (expanded), then, for a
         * bare {@code ARG NAME} in a stage, the value of the global ARG of that name.
         */
        private String argValue(Instruction.Arg.Declaration declaration, Map<String, String> globals,
                                Map<String, String> variables, Instruction.Arg arg) {
            String name = declaration.name();
            if (request.buildArgs().containsKey(name)) {
                usedBuildArgs.add(name);
                return request.buildArgs().get(name);
            }
            if (declaration.defaultValue() != null) {
                try {
                    return words.expand(declaration.defaultValue(), variables);
                } catch (IllegalArgumentException e) {
                    throw new DockerfileException(arg.location(), arg.text(), e.getMessage());
                }
            }
            return globals != null && declaredGlobalArgs.contains(name) ? globals.get(name) : null;
        }

        private String describe(Instruction instruction, Map<String, String> variables, List<Instruction.KeyValue> pairs) {
            List<String> described = new ArrayList<>();
            for (Instruction.KeyValue pair : pairs) {
                described.add(words.expand(pair.key(), variables) + "=" + words.expand(pair.value(), variables));
            }
            return instruction.keyword() + " " + String.join(" ", described);
        }

        private List<String> ports(String word) {
            Matcher matcher = PORT.matcher(word);
            if (!matcher.matches()) {
                throw new IllegalArgumentException("'" + word + "' is not a port: use PORT, PORT/tcp, PORT/udp or FROM-TO");
            }
            int first = Integer.parseInt(matcher.group(1));
            int last = matcher.group(2) == null ? first : Integer.parseInt(matcher.group(2));
            if (first < 1 || last > 65535 || last < first) {
                throw new IllegalArgumentException("'" + word + "' is not a port range within 1-65535");
            }
            String protocol = matcher.group(3) == null ? "tcp" : matcher.group(3).toLowerCase(Locale.ROOT);
            List<String> ports = new ArrayList<>();
            for (int port = first; port <= last; port++) {
                ports.add(port + "/" + protocol);
            }
            return ports;
        }

        /** Shell form runs through SHELL (by default /bin/sh -c); exec form as written. */
        private List<String> command(Instruction.Command command, ImageConfig.Settings settings) {
            if (command instanceof Instruction.Command.ExecForm exec) {
                return exec.args();
            }
            List<String> shell = new ArrayList<>(settings.shell() != null ? settings.shell() : DEFAULT_SHELL);
            shell.add(((Instruction.Command.ShellForm) command).script());
            return shell;
        }

        private StageState settingsStep(StageState state, Instruction instruction, String description,
                                        ImageConfig.Settings settings) throws IOException {
            // The description holds every expanded value, so it decides the resulting settings.
            Digest key = StepKey.of(state.id(), instruction.keyword(), Map.of("description", description));
            return step(state.withSettings(settings), key, description, step -> null);
        }

        private StageState workdir(StageState state, Instruction.Workdir workdir, Map<String, String> variables)
                throws IOException {
            String value = words.expand(workdir.path(), variables);
            String current = state.settings().workingDir() == null ? "/" : state.settings().workingDir();
            String path = Path.of(current).resolve(value).normalize().toString();
            StageState next = state.withSettings(state.settings().withWorkingDir(path));
            Digest key = StepKey.of(state.id(), "WORKDIR", Map.of("path", path));
            return step(next, key, "WORKDIR " + path, step -> inRoot(state, root -> {
                FileCopy.makeDirectory(root.root(), path, null, null);
            }));
        }

        private StageState run(StageState state, Instruction.Run run) throws IOException {
            ImageConfig.Settings settings = state.settings();
            List<String> args = command(run.command(), settings);
            if (args.isEmpty()) {
                throw new IllegalArgumentException("RUN needs a command");
            }
            Map<String, String> buildArgs = new TreeMap<>(state.args());
            request.buildArgs().forEach((name, value) -> {
                if (PREDEFINED_ARGS.contains(name)) {
                    usedBuildArgs.add(name);
                    buildArgs.put(name, value);
                }
            });
            Digest key = StepKey.of(state.id(), "RUN", Map.of("args", args, "buildArgs", buildArgs));
            String description = run.command() instanceof Instruction.Command.ShellForm shell
                    ? "RUN " + shell.script() : "RUN " + args;
            return step(state, key, description, step -> inRoot(state, root -> {
                try {
                    sandbox.run(root, args, settings.envMap(), buildArgs, settings.user(), settings.workingDir(), step);
                } catch (StepFailedException e) {
                    throw new StepFailedException(run.location() + ": " + DockerfileException.abbreviate(run.text()) + ": "
                            + e.getMessage() + " (its last lines are above)", e.hint(), e.outputTail());
                }
            }));
        }

        private StageState copy(StageState state, Instruction.Copy copy, Map<String, String> variables) throws IOException {
            String keyword = copy.keyword();
            List<String> sources = new ArrayList<>();
            for (String source : copy.sources()) {
                String expanded = words.expand(source, variables);
                if (copy.add()) {
                    DockerfileParser.requireLocalSource(copy.location(), copy.text(), expanded);
                }
                sources.add(expanded);
            }
            String destination = words.expand(copy.destination(), variables);
            if (!destination.startsWith("/")) {
                String workdir = state.settings().workingDir() == null ? "/" : state.settings().workingDir();
                destination = (workdir.endsWith("/") ? workdir : workdir + "/") + destination;
            }
            String chown = copy.chown() == null ? null : words.expand(copy.chown(), variables);
            Integer mode = copy.chmod() == null ? null : mode(words.expand(copy.chmod(), variables));
            Map<String, Object> inputs = new TreeMap<>();
            inputs.put("sources", sources);
            inputs.put("destination", destination);
            inputs.put("chown", String.valueOf(chown));
            inputs.put("chmod", String.valueOf(mode));
            String description = keyword + " " + String.join(" ", sources) + " " + destination;
            if (copy.from() == null) {
                List<String> entries = context.match(sources);
                requireDirectoryForMany(sources, entries, destination);
                if (copy.add()) {
                    refuseArchives(entries);
                }
                inputs.put("content", context.hash(entries).toString());
                String target = destination;
                Digest key = StepKey.of(state.id(), keyword, inputs);
                return step(state, key, description, step -> inRoot(state, root -> {
                    UserDatabase.Identity owner = chown == null ? UserDatabase.Identity.ROOT
                            : UserDatabase.of(root.root()).forChown(chown);
                    FileCopy.copy(root.root(), context, entries, target, owner, mode);
                }));
            }
            String fromReference = words.expand(copy.from(), variables);
            ImageConfig source = copySource(fromReference, copy);
            inputs.put("from", StageState.from(source).id().toString());
            String target = destination;
            Digest key = StepKey.of(state.id(), keyword, inputs);
            return step(state, key, description + " (from " + fromReference + ")", step -> inRoot(state, root -> {
                try (SignalSafe<SourceRoot> sourceRoot = SignalSafe.of(sandbox.newSource())) {
                    sourceRoot.get().open(source);
                    SourceTree tree = SourceTree.imageRoot(sourceRoot.get().path(), "'" + fromReference + "'");
                    List<String> entries = tree.match(sources);
                    requireDirectoryForMany(sources, entries, target);
                    UserDatabase.Identity owner = chown == null ? null : UserDatabase.of(root.root()).forChown(chown);
                    FileCopy.copy(root.root(), tree, entries, target, owner, mode);
                }
            }));
        }

        /** COPY --from: an earlier stage, else an image, by name. */
        private ImageConfig copySource(String reference, Instruction.Copy copy) {
            int current = stages.size();
            var stage = dockerfile.stageNamed(reference, dockerfile.stages().size());
            if (stage.isPresent()) {
                StageState built = stages.get(stage.get().index());
                if (built == null) {
                    throw new IllegalArgumentException("--from=" + reference + " names a stage that is not built before this one"
                            + " (stages built so far: " + current + ")");
                }
                return built.image();
            }
            return store.find(reference).map(StoredImage::config).orElseThrow(() -> new DockerfileException(
                    copy.location(), copy.text(), "--from=" + reference + " names neither an earlier stage nor an image in "
                    + "the store", "build or import the image first"));
        }

        private void requireDirectoryForMany(List<String> sources, List<String> entries, String destination) {
            if ((sources.size() > 1 || entries.size() > 1) && !destination.endsWith("/")) {
                throw new IllegalArgumentException("with more than one source the destination must be a directory "
                        + "ending in '/', not '" + destination + "'");
            }
        }

        private void refuseArchives(List<String> entries) throws IOException {
            for (String entry : entries) {
                Path file = context.hostPath(entry);
                if (Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) && isArchive(file)) {
                    throw new IllegalArgumentException("ADD would unpack the archive '" + entry
                            + "', and unpacking is not supported here; COPY it and unpack it in a RUN step");
                }
            }
        }

        /** One step: from the cache when it has the key, else done by {@code work}, which may make a layer. */
        private StageState step(StageState next, Digest key, String description, StepWork work) throws IOException {
            BuildProgress.Step step = progress.start(++number, total, description);
            BuildCache.Entry entry = request.noCache() ? null : store.cache().lookup(key).orElse(null);
            if (entry != null) {
                cached++;
                step.cached();
            } else {
                Digest layer;
                try {
                    layer = work.run(step);
                } catch (StepFailedException e) {
                    step.failed(e.outputTail());
                    throw e;
                } catch (IOException | RuntimeException e) {
                    step.failed(List.of());
                    throw e;
                }
                entry = new BuildCache.Entry(layer, Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
                store.cache().record(key, entry);
                step.done();
            }
            return next.withStep(entry.layer(), new ImageConfig.History(entry.created(), description,
                    entry.layer() == null ? Boolean.TRUE : null));
        }

        /** Mounts a root over {@code state}, does {@code work} in it, and stores what it changed as a layer. */
        private Digest inRoot(StageState state, RootWork work) throws IOException {
            try (SignalSafe<BuildRoot> root = SignalSafe.of(sandbox.newRoot())) {
                root.get().mount(state.lowerDirectoriesTopFirst(store));
                work.run(root.get());
                Path changes = root.get().finish();
                return changes == null ? null : store.commitLayer(changes).digest();
            }
        }

        void warnAboutUnusedArgs() {
            Set<String> unused = new TreeSet<>(request.buildArgs().keySet());
            unused.removeAll(usedBuildArgs);
            if (!unused.isEmpty()) {
                progress.note("warning: the build args " + unused + " were not used: no ARG declares them");
            }
        }
    }

    private interface StepWork {
        Digest run(BuildProgress.Step step) throws IOException;
    }

    private interface RootWork {
        void run(BuildRoot root) throws IOException;
    }

    private static Integer mode(String chmod) {
        if (!OCTAL_MODE.matcher(chmod).matches()) {
            throw new IllegalArgumentException("--chmod=" + chmod + " is not an octal mode like 0755");
        }
        return Integer.parseInt(chmod, 8);
    }

    /** gzip, bzip2, xz, zstd, or a tar file: what Docker's ADD would unpack. */
    static boolean isArchive(Path file) throws IOException {
        byte[] head = new byte[512];
        int read;
        try (InputStream in = Files.newInputStream(file)) {
            read = in.readNBytes(head, 0, head.length);
        }
        boolean gzip = read >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b;
        boolean bzip2 = read >= 3 && head[0] == 'B' && head[1] == 'Z' && head[2] == 'h';
        boolean xz = read >= 6 && (head[0] & 0xff) == 0xfd && head[1] == '7' && head[2] == 'z' && head[3] == 'X'
                && head[4] == 'Z' && head[5] == 0;
        boolean zstd = read >= 4 && (head[0] & 0xff) == 0x28 && (head[1] & 0xff) == 0xb5 && (head[2] & 0xff) == 0x2f
                && (head[3] & 0xff) == 0xfd;
        boolean tar = read >= 262 && new String(head, 257, 5, java.nio.charset.StandardCharsets.US_ASCII).equals("ustar");
        return gzip || bzip2 || xz || zstd || tar;
    }
}
