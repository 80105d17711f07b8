package dev.claudecage.cli;

import dev.claudecage.UserInputException;
import dev.claudecage.config.CageConfig;
import dev.claudecage.host.Directories;
import dev.claudecage.host.Host;
import dev.claudecage.image.build.BuildProgress;
import dev.claudecage.image.build.BuildSandbox;
import dev.claudecage.image.build.ImageBuilder;
import dev.claudecage.image.build.ShippedFiles;
import dev.claudecage.image.store.ImageName;
import dev.claudecage.image.store.ImageStore;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.runtime.OciRuntime;
import dev.claudecage.runtime.RuntimeKind;
import dev.claudecage.runtime.StatePaths;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

@Command(name = "build",
        description = {
                "Builds an image from a Dockerfile, without Docker: 'cli' and 'desktop' are the shipped images "
                        + "(docker/cli, docker/desktop), 'all' both; 'gateway' the image of claude-cage gateway serve "
                        + "for a cluster (docker/gateway, with this claude-cage's jar); anything else is a context "
                        + "directory.",
                "RUN steps run in a build sandbox (runc, host network, a few capabilities; see docs/images.md). "
                        + "Unchanged steps come from the build cache."},
        sortOptions = false)
final class BuildCommand extends BaseCommand {

    /** What 'all' builds; 'gateway' is for a cluster, built when asked. */
    private static final List<String> SHIPPED = List.of("cli", "desktop");
    private static final String GATEWAY = "gateway";

    @Parameters(arity = "0..1", paramLabel = "cli|desktop|gateway|all|CONTEXT", defaultValue = "cli",
            description = "What to build. Default: cli. A directory named like a shipped image is written ./cli.")
    String target;

    @Option(names = {"-f", "--file"}, paramLabel = "DOCKERFILE",
            description = "The Dockerfile, for a CONTEXT. Default: CONTEXT/Dockerfile.")
    Path file;

    @Option(names = {"-t", "--tag"}, paramLabel = "NAME[:TAG]",
            description = "The name to store the image under. Required with a CONTEXT; for cli and desktop it "
                    + "replaces their own name.")
    String tag;

    @Option(names = "--build-arg", paramLabel = "KEY[=VALUE]",
            description = "Sets an ARG; KEY alone takes the value of this environment's KEY. Repeatable.")
    List<String> buildArgs = new ArrayList<>();

    @Option(names = "--allow-unlimited", description = "Rootless: run the build steps even where the host cannot "
            + "enforce cpus, memory and pids_limit for you (no cgroup delegation); without it such a build is refused.")
    boolean allowUnlimited;

    @Option(names = "--no-cache", description = "Runs every step, ignoring the build cache (its results are kept).")
    boolean noCache;

    @Option(names = "--secret", paramLabel = "id=ID,src=FILE|env=VAR",
            description = "A secret for RUN --mount=type=secret,id=ID: the content of FILE, or of the environment "
                    + "variable VAR. It is never stored in a layer or the cache. Repeatable.")
    List<String> secrets = new ArrayList<>();

    @Option(names = "--allow-unverified-add", description = "Lets ADD download a URL that has no --checksum "
            + "(what arrives is then checked by nothing).")
    boolean allowUnverifiedAdd;

    private final List<Path> temporaryContexts = new ArrayList<>();

    @Override
    public Integer call() throws InterruptedException {
        try {
            return RootlessImageWrites.writingTheStore(spec, context, store -> build(store, requests()));
        } finally {
            for (Path temporary : temporaryContexts) {
                try {
                    Directories.deleteRecursively(temporary);
                } catch (IOException e) {
                    spec.commandLine().getErr().println("claude-cage: warning: cannot remove " + temporary + ": "
                            + e.getMessage());
                }
            }
        }
    }

    private Integer build(ImageStore store, List<ImageBuilder.Request> requests)
            throws InterruptedException {
        BuildProgress progress = BuildProgress.forStream(System.out, Host.interactiveTerminal());
        ImageBuilder builder = null;
        PrintWriter out = spec.commandLine().getOut();
        for (ImageBuilder.Request request : requests) {
            // A build whose record holds needs neither the configuration nor a sandbox.
            ImageBuilder.Result result = ImageBuilder.recorded(store, request, progress).orElse(null);
            if (result == null) {
                if (builder == null) {
                    builder = builder(store, progress);
                }
                result = builder.build(request);
            }
            out.println("built " + result.name() + " (" + result.id().shortHex() + ") in "
                    + BuildProgress.format(result.elapsed()) + ": " + result.steps() + " steps, "
                    + (result.cachedSteps() == result.steps() ? "all" : Integer.toString(result.cachedSteps()))
                    + " from the cache");
            out.flush();
        }
        return 0;
    }

    private ImageBuilder builder(ImageStore store, BuildProgress progress) {
        ProcessRunner runner = context.runner();
        CageConfig config = context.configLoader()
                .load(allowUnlimited ? Map.of("allow_unlimited", "true") : Map.of()).config();
        StatePaths paths = context.statePaths();
        OciRuntime runtime = OciRuntime.locate(RuntimeKind.fromConfig(config.runtime()), config.runscPlatform(),
                paths.runtimeState(), runner);
        BuildSandbox sandbox = new BuildSandbox(config, runtime, store, paths, runner,
                RootlessImageWrites.cgroups(config));
        return new ImageBuilder(sandbox, ShippedFiles.locate(), runner, ImagePullCommand.puller(store, runner, config),
                progress, ImagePullCommand.access(config));
    }

    /** The gateway's context, made for this build and removed after it. */
    private Path gatewayContext(ShippedFiles files) {
        Path context = files.gatewayContext(Path.of(System.getProperty("java.io.tmpdir")));
        temporaryContexts.add(context);
        return context;
    }

    private List<ImageBuilder.Request> requests() {
        Map<String, String> args = buildArgs();
        Map<String, byte[]> secretValues = secretValues();
        List<String> shipped = target.equals("all") ? SHIPPED
                : SHIPPED.contains(target) || target.equals(GATEWAY) ? List.of(target) : List.of();
        if (shipped.isEmpty()) {
            Path context = Path.of(target);
            if (tag == null) {
                throw new UserInputException("building the context " + context + " needs a name for the image",
                        "add -t NAME[:TAG]");
            }
            Path dockerfile = file != null ? file : context.resolve("Dockerfile");
            return List.of(new ImageBuilder.Request(dockerfile, context, ImageName.parse(tag), args, noCache, secretValues,
                    allowUnverifiedAdd));
        }
        if (file != null) {
            throw new UserInputException("-f goes with a CONTEXT; '" + target + "' builds the shipped Dockerfile",
                    "to build your own Dockerfile: claude-cage build -f FILE -t NAME CONTEXT");
        }
        if (tag != null && shipped.size() > 1) {
            throw new UserInputException("-t names one image; 'all' builds " + shipped.size(), "build them one by one");
        }
        ShippedFiles files = ShippedFiles.locate();
        List<ImageBuilder.Request> requests = new ArrayList<>();
        for (String image : shipped) {
            Path context = image.equals(GATEWAY) ? gatewayContext(files) : files.imageContext(image);
            Map<String, String> imageArgs = new LinkedHashMap<>(ShippedFiles.hostBuildArgs(image));
            imageArgs.putAll(args);
            requests.add(new ImageBuilder.Request(context.resolve("Dockerfile"), context,
                    ImageName.parse(tag != null ? tag : image), imageArgs, noCache, secretValues, allowUnverifiedAdd));
        }
        return requests;
    }

    /** --secret id=ID,src=FILE or id=ID,env=VAR, read now: a build step never sees the host's path. */
    private Map<String, byte[]> secretValues() {
        Map<String, byte[]> values = new LinkedHashMap<>();
        String usage = "use --secret id=ID,src=FILE or --secret id=ID,env=VARIABLE";
        for (String secret : secrets) {
            Map<String, String> fields = new LinkedHashMap<>();
            for (String field : secret.split(",")) {
                int equals = field.indexOf('=');
                if (equals <= 0) {
                    throw new UserInputException("--secret '" + secret + "': '" + field + "' is not KEY=VALUE", usage);
                }
                String key = field.substring(0, equals);
                fields.put(key.equals("source") ? "src" : key, field.substring(equals + 1));
            }
            String id = fields.remove("id");
            String source = fields.remove("src");
            String variable = fields.remove("env");
            fields.remove("type");
            if (id == null || id.isEmpty() || !fields.isEmpty() || (source == null) == (variable == null)) {
                throw new UserInputException("--secret '" + secret + "' needs an id and one of src or env", usage);
            }
            if (source != null) {
                try {
                    values.put(id, Files.readAllBytes(Path.of(source)));
                } catch (IOException e) {
                    throw new UserInputException("cannot read the secret file " + source + ": " + e.getMessage(),
                            "check the path given with --secret id=" + id + ",src=FILE");
                }
            } else {
                String value = System.getenv(variable);
                if (value == null) {
                    throw new UserInputException("--secret id=" + id + " takes its value from " + variable
                            + ", which is not set", usage);
                }
                values.put(id, value.getBytes(StandardCharsets.UTF_8));
            }
        }
        return values;
    }

    private Map<String, String> buildArgs() {
        Map<String, String> args = new LinkedHashMap<>();
        for (String arg : buildArgs) {
            int equals = arg.indexOf('=');
            String key = equals < 0 ? arg : arg.substring(0, equals);
            if (key.isEmpty()) {
                throw new UserInputException("--build-arg '" + arg + "' has no name", "use --build-arg KEY=VALUE");
            }
            String value = equals < 0 ? System.getenv(key) : arg.substring(equals + 1);
            if (value == null) {
                throw new UserInputException("--build-arg " + key + " takes its value from the environment, but " + key
                        + " is not set there", "use --build-arg " + key + "=VALUE");
            }
            args.put(key, value);
        }
        return args;
    }
}
