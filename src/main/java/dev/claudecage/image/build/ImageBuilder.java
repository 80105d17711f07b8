package dev.claudecage.image.build;

import dev.claudecage.CageException;
import dev.claudecage.UserInputException;
import dev.claudecage.host.FileLock;
import dev.claudecage.host.Directories;
import dev.claudecage.image.dockerfile.DockerIgnore;
import dev.claudecage.image.dockerfile.RunMount;
import dev.claudecage.image.registry.RegistryAccess;
import dev.claudecage.image.store.StopSignals;
import dev.claudecage.json.Json;
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
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
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

    /**
     * What to build.
     *
     * @param secrets            {@code RUN --mount=type=secret} values by id (build --secret)
     * @param allowUnverifiedAdd whether ADD may download a URL that has no --checksum
     */
    public record Request(Path dockerfile, Path context, ImageName name, Map<String, String> buildArgs, boolean noCache,
                          Map<String, byte[]> secrets, boolean allowUnverifiedAdd) {
        public Request {
            buildArgs = Map.copyOf(buildArgs);
            secrets = Map.copyOf(secrets);
        }

        public Request(Path dockerfile, Path context, ImageName name, Map<String, String> buildArgs, boolean noCache) {
            this(dockerfile, context, name, buildArgs, noCache, Map.of(), false);
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
    /** Where BuildKit puts a RUN here-document that is a script (#!...). */
    private static final String PIPES = "/dev/pipes/";
    private static final int INLINE_FILE_MODE = 0644;
    /** Docker's mode for a file ADD downloads. */
    private static final int DOWNLOAD_MODE = 0600;
    private static final Duration TAR_TIMEOUT = Duration.ofMinutes(30);

    private final ImageStore store;
    private final BuildSandbox sandbox;
    private final BaseImages bases;
    private final ImagePuller puller;
    private final BuildProgress progress;
    private final ProcessRunner runner;
    private final UrlDownloader downloader;

    /** @param access where ADD may download from (the rules of image pulls) */
    public ImageBuilder(BuildSandbox sandbox, ShippedFiles shipped, ProcessRunner runner, ImagePuller puller,
                        BuildProgress progress, RegistryAccess access) {
        this.store = sandbox.store();
        this.sandbox = sandbox;
        this.bases = new BaseImages(store, shipped, runner);
        this.puller = puller;
        this.progress = progress;
        this.runner = runner;
        this.downloader = new UrlDownloader(access);
    }

    public Result build(Request request) {
        long started = System.nanoTime();
        String text = readDockerfile(request.dockerfile());
        Dockerfile dockerfile = DockerfileParser.parse(request.dockerfile(), text);
        if (!Files.isDirectory(request.context())) {
            throw new UserInputException("the build context " + request.context() + " is not a directory",
                    "pass the directory the Dockerfile's COPY sources are in");
        }
        SourceTree context = SourceTree.context(request.context());
        FileLock lock = store.lock(progress::note);
        try {
            store.clearWorkDirectories(progress::note);
            Build build = new Build(dockerfile, context, request);
            ImageConfig image = build.run();
            Digest id = store.commitImage(image);
            store.tag(request.name(), id);
            List<String> unused = build.unusedArgs();
            warnAboutUnusedArgs(unused, progress);
            if (build.recordable) {
                store.builds().record(BuildRecord.key(text, request.buildArgs(), BuildRecord.builder()),
                        new BuildRecord(id, image.layers(), build.descriptions, unused, build.lookups,
                                build.contextReads).toJson());
            }
            return new Result(request.name(), id, build.number, build.cached, Duration.ofNanos(System.nanoTime() - started));
        } finally {
            lock.close();
        }
    }

    /**
     * The build from its record (see {@link BuildRecord}), when one holds for exactly this
     * Dockerfile, these build args and this builder, and everything else it read is unchanged:
     * the image is named and each step shown as from the cache, with no sandbox, no step walked
     * and no object mapper. Empty otherwise (and always with --no-cache): then build it.
     */
    @SuppressWarnings("try") // the lock is held for the whole check and the tag
    public static Optional<Result> recorded(ImageStore store, Request request, BuildProgress progress) {
        long started = System.nanoTime();
        if (request.noCache() || !Files.isDirectory(request.context())) {
            return Optional.empty();
        }
        String text;
        try {
            text = Files.readString(request.dockerfile());
        } catch (IOException e) {
            // The build by steps says what is wrong with it.
            return Optional.empty();
        }
        Digest key = BuildRecord.key(text, request.buildArgs(), BuildRecord.builder());
        BuildRecord record;
        try (FileLock lock = store.lock(progress::note)) {
            record = store.builds().lookup(key).flatMap(BuildRecord::parse).orElse(null);
            if (record == null || !record.holds(store, SourceTree.context(request.context()))) {
                return Optional.empty();
            }
            store.tag(request.name(), record.image());
        }
        int total = record.steps().size();
        for (int number = 1; number <= total; number++) {
            progress.start(number, total, record.steps().get(number - 1)).cached();
        }
        warnAboutUnusedArgs(record.unusedArgs(), progress);
        return Optional.of(new Result(request.name(), record.image(), total, total,
                Duration.ofNanos(System.nanoTime() - started)));
    }

    private static String readDockerfile(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UserInputException("cannot read Dockerfile " + file + ": " + e.getMessage(),
                    "pass the Dockerfile with -f FILE, or a context directory that holds one");
        }
    }

    private static void warnAboutUnusedArgs(List<String> unused, BuildProgress progress) {
        if (!unused.isEmpty()) {
            progress.note("warning: the build args " + unused + " were not used: no ARG declares them");
        }
    }

    /** One build: its Dockerfile, the stages built so far, and the step count. */
    private final class Build implements RunMounts.Sources {
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
        /** What the build's record holds (see {@link BuildRecord}), gathered as the steps read it. */
        private final List<String> descriptions = new ArrayList<>();
        private final Map<String, String> lookups = new TreeMap<>();
        private final List<BuildRecord.ContextRead> contextReads = new ArrayList<>();
        private boolean recordable = true;

        Build(Dockerfile dockerfile, SourceTree context, Request request) {
            this.dockerfile = dockerfile;
            this.context = context;
            this.request = request;
            this.words = new ShellWords(dockerfile.escape());
        }

        /** The image's config, layers in place. */
        ImageConfig run() {
            platformArgs().forEach((name, value) -> {
                globalArgs.put(name, value);
                declaredGlobalArgs.add(name);
            });
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
            return image.withLayers(Architecture.host(), ImageConfig.LINUX, image.rootfs());
        }

        /** A step's progress line, its description kept for the record. */
        private BuildProgress.Step start(String description) {
            descriptions.add(description);
            return progress.start(++number, total, description);
        }

        /** An image in the store, the lookup kept for the record. */
        private Optional<StoredImage> find(String reference) {
            Optional<StoredImage> found = store.find(reference);
            lookups.put(reference, found.map(image -> image.id().toString()).orElse(""));
            return found;
        }

        /** What the cache key sees of these context sources, kept for the record. */
        private Digest contextHash(List<String> sources, List<String> matched) throws IOException {
            Digest hash = context.hash(matched);
            contextReads.add(new BuildRecord.ContextRead(sources, hash));
            return hash;
        }

        /**
         * BuildKit's predefined platform ARGs, in the global scope (a stage sees them after a bare
         * {@code ARG TARGETARCH}): builds here are native, so target and build platform are this host's.
         */
        private static Map<String, String> platformArgs() {
            String platform = ImageConfig.LINUX + "/" + Architecture.host();
            Map<String, String> args = new LinkedHashMap<>();
            for (String prefix : List.of("TARGET", "BUILD")) {
                args.put(prefix + "PLATFORM", platform);
                args.put(prefix + "OS", ImageConfig.LINUX);
                args.put(prefix + "ARCH", Architecture.host());
                args.put(prefix + "VARIANT", "");
            }
            return args;
        }

        /** The target and the stages it names in FROM and COPY --from, as far as global ARGs tell. */
        private void addNeeded(Stage stage, Set<Integer> needed) {
            if (!needed.add(stage.index())) {
                return;
            }
            List<String> references = new ArrayList<>(List.of(stage.from().image()));
            for (Instruction instruction : stage.instructions()) {
                if (instruction instanceof Instruction.Copy copy && copy.from() != null) {
                    references.add(copy.from());
                } else if (instruction instanceof Instruction.Run run) {
                    run.mounts().stream().filter(mount -> mount.from() != null).forEach(mount -> references.add(mount.from()));
                }
            }
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
            List<String> triggers = state.settings().onBuild();
            if (!triggers.isEmpty()) {
                // As in Docker: the base's triggers run first, and the new image does not pass them on.
                state = state.withSettings(state.settings().withOnBuild(List.of()));
                total += triggers.size();
                for (String trigger : triggers) {
                    state = applyAt(state, DockerfileParser.parseTrigger(stage.from().location(), trigger,
                            dockerfile.escape()));
                }
            }
            for (Instruction instruction : stage.instructions()) {
                state = applyAt(state, instruction);
            }
            return state;
        }

        /** One instruction, its problems named by its line. */
        private StageState applyAt(StageState state, Instruction instruction) {
            try {
                return apply(state, instruction);
            } catch (IllegalArgumentException e) {
                throw new DockerfileException(instruction.location(), instruction.text(), e.getMessage());
            } catch (IOException e) {
                throw new CageException(instruction.location() + ": " + instruction.keyword() + " failed: " + e.getMessage());
            }
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
            BuildProgress.Step step = start("FROM " + reference
                    + (from.stageName() != null ? " AS " + from.stageName() : ""));
            var earlier = dockerfile.stageNamed(reference, stage.index());
            if (earlier.isPresent()) {
                cached++;
                step.cached();
                return StageState.from(stages.get(earlier.get().index()).image());
            }
            if (reference.equals("scratch")) {
                step.done();
                return StageState.from(new ImageConfig(Architecture.host(), ImageConfig.LINUX, null, null, null, null, null));
            }
            return StageState.from(image(reference, from, step).config());
        }

        /**
         * A base image, from the first place that has it: the store; debootstrap, for a Debian
         * base; a pull from its registry. The step is ended.
         */
        private StoredImage image(String reference, Instruction instruction, BuildProgress.Step step) {
            var stored = find(reference);
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
            var pulledBefore = pullable.digest() != null ? find(name.toString()) : Optional.<StoredImage>empty();
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
            if (instruction instanceof Instruction.Volume volume) {
                List<String> paths = new ArrayList<>();
                for (String path : volume.paths()) {
                    paths.add(words.expand(path, variables));
                }
                for (String path : paths) {
                    settings = settings.withVolume(path);
                }
                return settingsStep(state, instruction, "VOLUME " + paths, settings);
            }
            if (instruction instanceof Instruction.Healthcheck healthcheck) {
                ImageConfig.Healthcheck recorded = healthcheck(healthcheck);
                return settingsStep(state, instruction, "HEALTHCHECK " + Json.writeLine(recorded),
                        settings.withHealthcheck(recorded));
            }
            if (instruction instanceof Instruction.StopSignal stopSignal) {
                String signal = words.expand(stopSignal.signal(), variables);
                StopSignals.number(signal);
                return settingsStep(state, instruction, "STOPSIGNAL " + signal, settings.withStopSignal(signal));
            }
            if (instruction instanceof Instruction.OnBuild onBuild) {
                List<String> triggers = new ArrayList<>(settings.onBuild());
                triggers.add(onBuild.trigger());
                return settingsStep(state, instruction, "ONBUILD " + onBuild.trigger(), settings.withOnBuild(triggers));
            }
            if (instruction instanceof Instruction.Maintainer maintainer) {
                String description = "MAINTAINER " + maintainer.name();
                StageState next = new StageState(state.image().withAuthor(maintainer.name()), state.args(), state.cmdSet());
                return step(next, StepKey.of(state.id(), "MAINTAINER", Map.of("description", description)), description,
                        step -> null);
            }
            if (instruction instanceof Instruction.Workdir workdir) {
                return workdir(state, workdir, variables);
            }
            if (instruction instanceof Instruction.Run run) {
                return run(state, run, variables);
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

        /**
         * HEALTHCHECK as Docker records it: ["NONE"], ["CMD", args...] or ["CMD-SHELL", script]
         * (run with the container's shell), durations in nanoseconds, left out when not given.
         */
        private ImageConfig.Healthcheck healthcheck(Instruction.Healthcheck healthcheck) {
            if (healthcheck.command() == null) {
                return new ImageConfig.Healthcheck(List.of("NONE"), null, null, null, null, null);
            }
            List<String> test = new ArrayList<>();
            if (healthcheck.command() instanceof Instruction.Command.ExecForm exec) {
                test.add("CMD");
                test.addAll(exec.args());
            } else {
                test.add("CMD-SHELL");
                test.add(((Instruction.Command.ShellForm) healthcheck.command()).script());
            }
            // As Docker, which leaves zero values out: --retries=0 means the default.
            Integer retries = healthcheck.retries() == null || healthcheck.retries() == 0 ? null : healthcheck.retries();
            return new ImageConfig.Healthcheck(test, nanos(healthcheck.interval()), nanos(healthcheck.timeout()),
                    nanos(healthcheck.startPeriod()), nanos(healthcheck.startInterval()), retries);
        }

        private static Long nanos(Duration duration) {
            return duration == null ? null : duration.toNanos();
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
                FileCopy.makeDirectory(root.root(), path, null, null, null);
            }));
        }

        private StageState run(StageState state, Instruction.Run run, Map<String, String> variables) throws IOException {
            ImageConfig.Settings settings = state.settings();
            List<String> args = command(runCommand(run), settings);
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
            List<RunMount> mounts = new ArrayList<>();
            for (RunMount mount : run.mounts()) {
                mounts.add(mount.expand(value -> words.expand(value, variables)));
            }
            Instruction.Heredoc script = executableHeredoc(run);
            Map<String, Object> inputs = new TreeMap<>();
            inputs.put("args", args);
            inputs.put("buildArgs", buildArgs);
            inputs.put("network", run.network().name());
            if (script != null) {
                inputs.put("script", script.text());
            }
            List<String> mountKeys = new ArrayList<>();
            for (RunMount mount : mounts) {
                mountKeys.add(Json.writeLine(mount) + " " + mountContent(mount));
            }
            inputs.put("mounts", mountKeys);
            Digest key = StepKey.of(state.id(), "RUN", inputs);
            String description = run.command() instanceof Instruction.Command.ShellForm shell
                    ? "RUN " + shell.script() : "RUN " + args;
            return step(state, key, description, step -> inRoot(state, root -> {
                try (SignalSafe<RunMounts> runMounts = SignalSafe.of(new RunMounts(this))) {
                    runMounts.get().prepare(root.root(), mounts, settings.workingDir());
                    if (script != null) {
                        runMounts.get().inlineFile(PIPES + script.name(), script.text());
                    }
                    sandbox.run(root, args, settings.envMap(), buildArgs, settings.user(), settings.workingDir(),
                            new BuildSandbox.StepOptions(runMounts.get().mounts(),
                                    run.network() == Instruction.RunNetwork.NONE, runMounts.get().environment()), step);
                    runMounts.get().removeMountPoints(root.root());
                } catch (StepFailedException e) {
                    throw new StepFailedException(run.location() + ": " + DockerfileException.abbreviate(run.text()) + ": "
                            + e.getMessage() + " (its last lines are above)", e.hint(), e.outputTail());
                }
            }));
        }

        /**
         * The command a RUN with here-documents runs, as BuildKit makes it: a RUN that is nothing
         * but one here-document runs its content with the shell (or, when it starts with #!, as a
         * script file in /dev/pipes); any other runs its line with the documents after it, for
         * the shell to read as here-documents.
         */
        private Instruction.Command runCommand(Instruction.Run run) {
            if (run.heredocs().isEmpty() || !(run.command() instanceof Instruction.Command.ShellForm shell)) {
                return run.command();
            }
            if (isSingleHeredoc(shell.script())) {
                Instruction.Heredoc only = run.heredocs().get(0);
                return new Instruction.Command.ShellForm(only.text().startsWith("#!") ? PIPES + only.name() : only.text());
            }
            StringBuilder full = new StringBuilder(shell.script());
            for (Instruction.Heredoc heredoc : run.heredocs()) {
                full.append('\n').append(heredoc.content()).append(heredoc.name());
            }
            return new Instruction.Command.ShellForm(full.toString());
        }

        /** The here-document a RUN runs as a script file (#!...), or null. */
        private Instruction.Heredoc executableHeredoc(Instruction.Run run) {
            if (run.heredocs().isEmpty() || !(run.command() instanceof Instruction.Command.ShellForm shell)
                    || !isSingleHeredoc(shell.script()) || !run.heredocs().get(0).text().startsWith("#!")) {
                return null;
            }
            Instruction.Heredoc script = run.heredocs().get(0);
            if (script.name().contains("/")) {
                throw new IllegalArgumentException("the here-document's name '" + script.name() + "' holds a '/'");
            }
            return script;
        }

        private static boolean isSingleHeredoc(String script) {
            return script.strip().matches("[0-9]*<<-?[^<\\s]+");
        }

        /** What a mount shows that the cache key must see: the context files of a bind mount, another stage's state. */
        private String mountContent(RunMount mount) throws IOException {
            if (mount.type() != RunMount.Type.BIND) {
                return "";
            }
            if (mount.from() == null) {
                List<String> sources = List.of(mount.source() == null ? "/" : mount.source());
                return contextHash(sources, context.match(sources)).toString();
            }
            return StageState.from(image(mount.from())).id().toString();
        }

        // ---- RunMounts.Sources -----------------------------------------------------------------

        @Override
        public ImageStore store() {
            return store;
        }

        @Override
        public SourceTree context() {
            return context;
        }

        /** An earlier stage, else an image in the store, by name. */
        @Override
        public ImageConfig image(String reference) {
            var stage = dockerfile.stageNamed(reference, dockerfile.stages().size());
            if (stage.isPresent()) {
                StageState built = stages.get(stage.get().index());
                if (built == null) {
                    throw new IllegalArgumentException("'" + reference + "' names a stage that is not built before this one");
                }
                return built.image();
            }
            return find(reference).map(StoredImage::config).orElseThrow(() -> new IllegalArgumentException(
                    "'" + reference + "' names neither an earlier stage nor an image in the store; build or import "
                            + "the image first"));
        }

        @Override
        public SourceRoot newSourceRoot() {
            return sandbox.newSource();
        }

        @Override
        public byte[] secret(String id) {
            return request.secrets().get(id);
        }

        // ---- COPY and ADD ----------------------------------------------------------------------

        private StageState copy(StageState state, Instruction.Copy copy, Map<String, String> variables) throws IOException {
            String keyword = copy.keyword();
            List<String> sources = new ArrayList<>();
            for (String source : copy.sources()) {
                String expanded = words.expand(source, variables);
                if (copy.add()) {
                    DockerfileParser.refuseGitSource(copy.location(), copy.text(), expanded);
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
            List<String> excludePatterns = new ArrayList<>();
            for (String exclude : copy.excludes()) {
                excludePatterns.add(words.expand(exclude, variables));
            }
            DockerIgnore excludes = DockerIgnore.of(excludePatterns);
            Map<String, String> inline = new LinkedHashMap<>();
            for (Instruction.Heredoc heredoc : copy.heredocs()) {
                if (heredoc.name().contains("/") || heredoc.name().equals(".") || heredoc.name().equals("..")) {
                    throw new IllegalArgumentException("the here-document's name '" + heredoc.name()
                            + "' is its file's name, and cannot hold a '/'");
                }
                inline.put(heredoc.name(), heredoc.expand() ? words.expandKeepingQuotes(heredoc.text(), variables)
                        : heredoc.text());
            }
            Map<String, Object> inputs = new TreeMap<>();
            inputs.put("sources", sources);
            inputs.put("destination", destination);
            inputs.put("chown", String.valueOf(chown));
            inputs.put("chmod", String.valueOf(mode));
            if (!excludePatterns.isEmpty() || copy.parents() || !inline.isEmpty()) {
                inputs.put("excludes", excludePatterns);
                inputs.put("parents", copy.parents());
                inputs.put("inline", inline);
            }
            String description = keyword + " " + String.join(" ", sources)
                    + inline.keySet().stream().map(name -> " <<" + name).reduce("", String::concat) + " " + destination;
            if (copy.add() && sources.stream().anyMatch(DockerfileParser::isUrl)) {
                return addUrl(state, copy, sources, destination, chown, mode, inputs, description, variables);
            }
            String target = destination;
            if (copy.from() == null) {
                List<List<String>> matched = sources.isEmpty() ? List.of() : context.matchEach(sources);
                int count = inline.size() + matched.stream().mapToInt(List::size).sum();
                requireDirectoryForMany(count, destination);
                List<String> all = matched.stream().flatMap(List::stream).toList();
                inputs.put("content", (sources.isEmpty() ? context.hash(all) : contextHash(sources, all)).toString());
                Digest key = StepKey.of(state.id(), keyword, inputs);
                return step(state, key, description, step -> inRoot(state, root -> {
                    UserDatabase.Identity owner = chown == null ? UserDatabase.Identity.ROOT
                            : UserDatabase.of(root.root()).forChown(chown);
                    String into = count > 1 && !target.endsWith("/") ? target + "/" : target;
                    copyInline(root.root(), inline, into, owner, mode);
                    copyMatched(root.root(), context, sources, matched, into, owner, mode, excludes, copy);
                }));
            }
            String fromReference = words.expand(copy.from(), variables);
            ImageConfig source = image(fromReference);
            inputs.put("from", StageState.from(source).id().toString());
            Digest key = StepKey.of(state.id(), keyword, inputs);
            return step(state, key, description + " (from " + fromReference + ")", step -> inRoot(state, root -> {
                try (SignalSafe<SourceRoot> sourceRoot = SignalSafe.of(sandbox.newSource())) {
                    sourceRoot.get().open(source);
                    SourceTree tree = SourceTree.imageRoot(sourceRoot.get().path(), "'" + fromReference + "'");
                    List<List<String>> matched = tree.matchEach(sources);
                    int count = inline.size() + matched.stream().mapToInt(List::size).sum();
                    requireDirectoryForMany(count, target);
                    UserDatabase.Identity owner = chown == null ? null : UserDatabase.of(root.root()).forChown(chown);
                    String into = count > 1 && !target.endsWith("/") ? target + "/" : target;
                    copyInline(root.root(), inline, into, owner == null ? UserDatabase.Identity.ROOT : owner, mode);
                    copyMatched(root.root(), tree, sources, matched, into, owner, mode, excludes, copy);
                }
            }));
        }

        /** COPY's here-documents: files of that name, 0644 unless --chmod, written into a work directory, then copied. */
        private void copyInline(Path root, Map<String, String> inline, String destination, UserDatabase.Identity owner,
                                Integer mode) throws IOException {
            if (inline.isEmpty()) {
                return;
            }
            Path work = store.createWorkDirectory("heredoc");
            try {
                Path files = Files.createDirectory(work.resolve("files"));
                for (var entry : inline.entrySet()) {
                    Path file = files.resolve(entry.getKey());
                    Files.writeString(file, entry.getValue(), StandardCharsets.UTF_8);
                    Files.setAttribute(file, "unix:mode", INLINE_FILE_MODE, LinkOption.NOFOLLOW_LINKS);
                }
                FileCopy.copy(root, SourceTree.imageRoot(files, "the here-documents"), List.copyOf(inline.keySet()),
                        destination, owner, mode, DockerIgnore.none());
            } finally {
                Directories.deleteRecursively(work);
            }
        }

        /**
         * What the sources matched, each source's matches in turn: with --parents to its path below
         * the context (or below a "/./" in the source); by ADD, a tar archive from the context is
         * unpacked into the destination; --exclude leaves out what its patterns match.
         */
        private void copyMatched(Path root, SourceTree tree, List<String> sources, List<List<String>> matched,
                                 String destination, UserDatabase.Identity owner, Integer mode, DockerIgnore excludes,
                                 Instruction.Copy copy) throws IOException {
            for (int i = 0; i < sources.size(); i++) {
                String pivot = copy.parents() ? parentsPivot(sources.get(i)) : null;
                for (String entry : matched.get(i)) {
                    String name = entry.isEmpty() ? "" : Path.of(entry).getFileName().toString();
                    if (!name.isEmpty() && excludes.excludes(name)) {
                        continue;
                    }
                    String target = destination;
                    if (pivot != null) {
                        String kept = pivot.isEmpty() ? entry : entry.startsWith(pivot + "/")
                                ? entry.substring(pivot.length() + 1) : entry;
                        target = (destination.endsWith("/") ? destination : destination + "/") + kept;
                    }
                    Path host = tree.hostPath(entry);
                    if (copy.add() && copy.from() == null && Files.isRegularFile(host, LinkOption.NOFOLLOW_LINKS)
                            && isTarArchive(host)) {
                        unpack(root, host, target, copy.chown() == null ? null : owner);
                    } else {
                        FileCopy.copy(root, tree, List.of(entry), target, owner, mode, excludes);
                    }
                }
            }
        }

        /** ADD of a local tar archive (plain, gzip, bzip2, xz or zstd): unpacked into the destination directory. */
        private void unpack(Path root, Path archive, String destination, UserDatabase.Identity owner) throws IOException {
            Path work = store.createWorkDirectory("add-unpack");
            try {
                Path files = Files.createDirectory(work.resolve("files"));
                // GNU tar in an empty directory: a member's links cannot lead it out (links that point
                // outside are made last), and the result reaches the image only through FileCopy.
                runner.run(List.of("tar", "-xf", archive.toString(), "-C", files.toString(), "--numeric-owner",
                        "--same-owner", "--same-permissions", "--no-overwrite-dir"), TAR_TIMEOUT);
                FileCopy.copy(root, SourceTree.imageRoot(files, "the archive " + archive.getFileName()), List.of(""),
                        destination.endsWith("/") ? destination : destination + "/", owner, null, DockerIgnore.none());
            } finally {
                Directories.deleteRecursively(work);
            }
        }

        /** Whether ADD unpacks this file: Docker's test is that it reads as a (compressed) tar archive. */
        private boolean isTarArchive(Path file) throws IOException {
            return isArchive(file) && runner.runAllowingFailure(List.of("tar", "-tf", file.toString()), TAR_TIMEOUT)
                    .succeeded();
        }

        /**
         * ADD of a URL: downloaded by the host side and checked against --checksum; without one it
         * is refused unless the build allows unverified downloads. The file gets mode 0600 (Docker's)
         * unless --chmod, the server's Last-Modified time, and is never unpacked.
         */
        private StageState addUrl(StageState state, Instruction.Copy copy, List<String> sources, String destination,
                                  String chown, Integer mode, Map<String, Object> inputs, String description,
                                  Map<String, String> variables) throws IOException {
            if (sources.size() != 1 || !copy.heredocs().isEmpty()) {
                throw new IllegalArgumentException("ADD of a URL takes that one URL as its only source");
            }
            String url = sources.get(0);
            Digest expected = copy.checksum() == null ? null : Digest.parse(words.expand(copy.checksum(), variables));
            if (expected == null && !request.allowUnverifiedAdd()) {
                throw new DockerfileException(copy.location(), copy.text(), "ADD of the URL " + url + " has no --checksum, "
                        + "so nothing would check what it downloads",
                        "add --checksum=sha256:HEX (sha256sum of the file), or build with --allow-unverified-add");
            }
            String path = URI.create(url).getPath();
            String fileName = path == null ? "" : path.substring(path.lastIndexOf('/') + 1);
            if (fileName.isEmpty() && destination.endsWith("/")) {
                throw new IllegalArgumentException("the URL " + url + " names no file; give the destination file's name");
            }
            Path work = store.createWorkDirectory("add-url");
            try {
                Path files = Files.createDirectory(work.resolve("files"));
                String name = fileName.isEmpty() ? "download" : fileName;
                UrlDownloader.Downloaded downloaded = null;
                if (expected == null) {
                    // Unverified: what the cache key sees is what arrived, so a changed file is a new step;
                    // and no record of the whole build can know what would arrive next time.
                    downloaded = downloader.download(url, files.resolve(name), null);
                    recordable = false;
                }
                inputs.put("content", expected != null ? expected.toString() : downloaded.digest().toString());
                Digest key = StepKey.of(state.id(), "ADD", inputs);
                UrlDownloader.Downloaded already = downloaded;
                return step(state, key, description, step -> inRoot(state, root -> {
                    UrlDownloader.Downloaded file = already != null ? already
                            : downloader.download(url, files.resolve(name), expected);
                    Files.setAttribute(file.file(), "unix:mode", DOWNLOAD_MODE, LinkOption.NOFOLLOW_LINKS);
                    if (file.lastModified().isPresent()) {
                        Files.setLastModifiedTime(file.file(), FileTime.from(file.lastModified().get()));
                    }
                    UserDatabase.Identity owner = chown == null ? UserDatabase.Identity.ROOT
                            : UserDatabase.of(root.root()).forChown(chown);
                    FileCopy.copy(root.root(), SourceTree.imageRoot(files, url), List.of(name), destination, owner, mode,
                            DockerIgnore.none());
                }));
            } finally {
                Directories.deleteRecursively(work);
            }
        }

        private void requireDirectoryForMany(int count, String destination) {
            if (count > 1 && !destination.endsWith("/")) {
                throw new IllegalArgumentException("with more than one source the destination must be a directory "
                        + "ending in '/', not '" + destination + "'");
            }
        }

        /** One step: from the cache when it has the key, else done by {@code work}, which may make a layer. */
        private StageState step(StageState next, Digest key, String description, StepWork work) throws IOException {
            BuildProgress.Step step = start(description);
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

        /** The build args no ARG declared, sorted. */
        List<String> unusedArgs() {
            Set<String> unused = new TreeSet<>(request.buildArgs().keySet());
            unused.removeAll(usedBuildArgs);
            return List.copyOf(unused);
        }
    }

    private interface StepWork {
        Digest run(BuildProgress.Step step) throws IOException;
    }

    private interface RootWork {
        void run(BuildRoot root) throws IOException;
    }

    /**
     * COPY --parents: the part of a source before a "/./" in it, which the copy leaves out of the
     * kept path; "" when it has none (the whole path below the context is kept).
     */
    static String parentsPivot(String source) {
        String relative = source.replaceFirst("^/+", "").replaceFirst("^(\\./)+", "");
        int marker = relative.indexOf("/./");
        return marker < 0 ? "" : SourceTree.clean(relative.substring(0, marker));
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
