package dev.claudecage.cli;

import dev.claudecage.config.CageConfig;
import dev.claudecage.image.archive.ImageImporter;
import dev.claudecage.image.build.BuildProgress;
import dev.claudecage.image.build.ImagePuller;
import dev.claudecage.image.registry.ImageReference;
import dev.claudecage.image.registry.RegistryAccess;
import dev.claudecage.image.store.ImageStore;
import dev.claudecage.image.store.StoredImage;
import dev.claudecage.process.ProcessRunner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Map;

@Command(name = "pull",
        description = {"Pulls an image from a registry over the OCI distribution API (anonymously, linux on this host's "
                + "architecture) and stores it under the reference's name, e.g. debian:trixie or localhost:5000/tools:1.",
                "Plain HTTP only to loopback registries and those in the insecure_registries configuration key."})
final class ImagePullCommand extends BaseCommand {

    @Parameters(paramLabel = "[REGISTRY/]NAME[:TAG][@sha256:DIGEST]")
    String reference;

    static ImagePuller puller(ImageStore store, ProcessRunner runner, CageConfig config) {
        return new ImagePuller(store, new ImageImporter(store, runner), access(config));
    }

    static RegistryAccess access(CageConfig config) {
        return new RegistryAccess(config.insecureRegistries(), config.registryMirrors());
    }

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        return RootlessImageWrites.underStoreLock(spec, context, store -> {
            ImageReference parsed = ImageReference.parse(reference);
            CageConfig config = context.configLoader().load(Map.of()).config();
            long started = System.nanoTime();
            store.clearWorkDirectories(message -> spec.commandLine().getErr().println(message));
            StoredImage pulled = puller(store, context.runner(), config).pull(parsed, note -> {
                out.println(note);
                out.flush();
            });
            out.println("pulled " + parsed.localName() + " (" + pulled.id().shortHex() + "), "
                    + pulled.layerDirectories().size() + " layer(s), in "
                    + BuildProgress.format(Duration.ofNanos(System.nanoTime() - started)));
            out.flush();
        });
    }
}
