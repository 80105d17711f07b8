package dev.claudecage.image.build;

import dev.claudecage.CageException;
import dev.claudecage.host.Directories;
import dev.claudecage.image.store.Architecture;
import dev.claudecage.image.store.Digest;
import dev.claudecage.image.store.ImageConfig;
import dev.claudecage.image.store.ImageName;
import dev.claudecage.image.store.ImageStore;
import dev.claudecage.image.store.LayerDigest;
import dev.claudecage.image.store.StoredImage;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.rootless.NamespaceReexec;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Base images made here rather than pulled: {@code debian:SUITE} and {@code debian:SUITE-slim},
 * by the rootfs builder ({@code make-minbase-rootfs.sh --image}, debootstrap's minbase variant,
 * as Debian's official images are made). The result is stored as a one-layer image under that
 * name, so the next build finds it locally.
 */
final class BaseImages {

    private static final Pattern DEBIAN_TAG = Pattern.compile("([a-z]+)(-slim)?");
    private static final Duration DEBOOTSTRAP_TIMEOUT = Duration.ofMinutes(30);
    static final String DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private final ImageStore store;
    private final ShippedFiles shipped;
    private final ProcessRunner runner;

    BaseImages(ImageStore store, ShippedFiles shipped, ProcessRunner runner) {
        this.store = store;
        this.shipped = shipped;
        this.runner = runner;
    }

    /** Whether {@code name} is one this class can make. */
    static boolean canMake(ImageName name) {
        return name.repository().equals("debian") && DEBIAN_TAG.matcher(name.tag()).matches()
                && !name.tag().equals(ImageName.DEFAULT_TAG);
    }

    /** Makes {@code name} with debootstrap and stores it; the step shows debootstrap's output. */
    StoredImage make(ImageName name, BuildProgress.Step step) {
        Matcher tag = DEBIAN_TAG.matcher(name.tag());
        if (!canMake(name) || !tag.matches()) {
            throw new IllegalArgumentException("cannot make " + name);
        }
        Path work = store.createWorkDirectory("debootstrap");
        try {
            Path rootfs = work.resolve("rootfs");
            List<String> command = new ArrayList<>();
            if (NamespaceReexec.owner().isPresent()) {
                // A user namespace may not make device nodes. As in an LXC container, debootstrap then binds
                // the host's over a tmpfs while it installs, and the image's /dev keeps none (a cage's /dev is its own).
                command.addAll(List.of("env", "container=lxc"));
            }
            command.addAll(List.of(shipped.debootstrapScript().toString(), "--image"));
            if (tag.group(2) != null) {
                command.add("--slim");
            }
            command.addAll(List.of(rootfs.toString(), tag.group(1)));
            StreamedCommand.Outcome outcome = StreamedCommand.run(runner, command, DEBOOTSTRAP_TIMEOUT, step);
            if (outcome.exitCode() != 0) {
                throw new StepFailedException("making " + name + " with debootstrap failed (exit code "
                        + outcome.exitCode() + "); its last lines are above",
                        "check that the suite '" + tag.group(1) + "' exists and that deb.debian.org is reachable",
                        outcome.tail());
            }
            LayerDigest.Result layer = store.commitLayer(rootfs);
            String created = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
            ImageConfig config = new ImageConfig(Architecture.host(), ImageConfig.LINUX, created, null,
                    ImageConfig.Settings.EMPTY.withEnv("PATH", DEFAULT_PATH.substring("PATH=".length())).withCmd(List.of("bash")),
                    null, null)
                    .withStep(layer.digest(), new ImageConfig.History(created,
                            "debootstrap --variant=minbase " + tag.group(1) + (tag.group(2) != null ? " (slim)" : ""), null));
            Digest id = store.commitImage(config);
            store.tag(name, id);
            return store.image(id).orElseThrow();
        } finally {
            Directories.deleteRecursively(work, step::output);
        }
    }
}
