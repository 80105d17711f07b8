package dev.claudecage.cli;

import dev.claudecage.UserInputException;
import dev.claudecage.image.build.BuildProgress;
import dev.claudecage.image.store.ImageStore;
import dev.claudecage.image.store.StoredImage;
import dev.claudecage.json.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.util.List;

@Command(name = "image", description = "Manages the image store: inspect, rm, prune, import, save, pull.",
        subcommands = {ImageCommand.Inspect.class, ImageCommand.Remove.class, ImageCommand.Prune.class,
                ImageImportCommand.class, ImageSaveCommand.class, ImagePullCommand.class})
final class ImageCommand extends CommandGroup {

    static void report(PrintWriter out, ImageStore.Removal removal) {
        removal.images().forEach(image -> out.println("removed " + image));
        out.println("removed " + removal.layers() + " layer(s), " + BuildProgress.size(removal.bytes()));
        if (!removal.keptInUse().isEmpty()) {
            out.println("kept " + removal.keptInUse().size() + " layer(s) that running cages use");
        }
        out.flush();
    }

    @Command(name = "inspect", description = "Prints an image's OCI image config (env, user, workdir, entrypoint, "
            + "cmd, ports, labels, layers, history).")
    static final class Inspect extends BaseCommand {

        @Parameters(paramLabel = "NAME[:TAG]|ID")
        String image;

        @Override
        public Integer call() {
            StoredImage found = context.images().find(image).orElseThrow(() -> new UserInputException(
                    "no image is named " + image, "'claude-cage images' lists them"));
            spec.commandLine().getOut().print(Json.write(found.config()));
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    @Command(name = "rm", description = "Removes image names (or unnamed images, by id); an image whose last name goes "
            + "is removed with the layers no other image uses.")
    static final class Remove extends BaseCommand {

        @Parameters(arity = "1..*", paramLabel = "NAME[:TAG]|ID")
        List<String> names;

        @Override
        public Integer call() throws InterruptedException {
            return RootlessImageWrites.underStoreLock(spec, context, store -> {
                for (String name : names) {
                    report(spec.commandLine().getOut(), store.remove(name));
                }
            });
        }
    }

    @Command(name = "prune", description = "Removes images without a name, layers no image uses (build cache and "
            + "intermediate stages included) and what interrupted builds left.")
    static final class Prune extends BaseCommand {

        @Override
        public Integer call() throws InterruptedException {
            return RootlessImageWrites.underStoreLock(spec, context, store -> {
                store.clearWorkDirectories(message -> spec.commandLine().getErr().println(message));
                report(spec.commandLine().getOut(), store.prune());
            });
        }
    }
}
