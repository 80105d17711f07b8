package dev.claudecage.cli;

import dev.claudecage.CageException;
import dev.claudecage.UserInputException;
import dev.claudecage.config.CageConfig;
import dev.claudecage.host.FileLock;
import dev.claudecage.image.archive.ImageExporter;
import dev.claudecage.image.build.BuildProgress;
import dev.claudecage.image.store.ImageName;
import dev.claudecage.image.store.ImageStore;
import dev.claudecage.image.store.StoredImage;
import dev.claudecage.rootless.NamespaceReexec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalInt;
import java.util.function.Consumer;
import java.util.stream.Stream;

@Command(name = "save",
        description = {"Writes an image as an OCI image layout directory, which 'image import' (as root or as a "
                + "rootless user), podman and skopeo read; or, given a FILE.tar, as a tar of one that docker load "
                + "reads too. The same image saves to the same bytes. For example, root's cli image for a rootless "
                + "user, and for Docker:",
                "  sudo claude-cage image save cli -o /tmp/cli-image && claude-cage image import /tmp/cli-image",
                "  sudo claude-cage image save cli -o cli.tar && docker load -i cli.tar",
                "Under sudo what is written belongs to the user who ran sudo."})
final class ImageSaveCommand extends BaseCommand {

    @Parameters(paramLabel = "NAME[:TAG]", description = "The image.")
    String image;

    @Option(names = {"--output", "-o"}, required = true, paramLabel = "DIR|FILE.tar",
            description = "The directory to write, or the archive when the name ends in .tar; it must not exist yet.")
    Path output;

    @Override
    public Integer call() throws InterruptedException {
        OptionalInt inNamespace = RootlessImageWrites.runInNamespace(spec, context);
        if (inNamespace.isPresent()) {
            return inNamespace.getAsInt();
        }
        PrintWriter out = spec.commandLine().getOut();
        ImageStore store = context.images();
        ImageExporter.Result result;
        ImageName name;
        // Read under the lock: a prune meanwhile must not take the layers away.
        FileLock lock = store.lock(message -> spec.commandLine().getErr().println(message));
        try {
            StoredImage found = store.find(image).orElseThrow(() -> new UserInputException("no image is named " + image,
                    "'claude-cage images' lists them"));
            name = ImageName.parse(image);
            ImageExporter exporter = new ImageExporter(context.runner());
            Consumer<String> notes = note -> {
                out.println(note);
                out.flush();
            };
            result = output.getFileName().toString().endsWith(".tar")
                    ? exporter.saveArchive(found, name, output.toAbsolutePath(), notes)
                    : exporter.save(found, name, output.toAbsolutePath(), notes);
        } finally {
            lock.close();
        }
        handOver(output);
        out.println("saved " + name + " to " + output + ": " + result.layers() + " layer(s), "
                + BuildProgress.size(result.bytes()));
        out.flush();
        return 0;
    }

    /** What was written to whoever asked: the sudo user, or (rootless, written as root of the namespace) the user. */
    private void handOver(Path directory) {
        int uid;
        int gid;
        if (NamespaceReexec.owner().isPresent()) {
            CageConfig config = context.configLoader().load(Map.of()).config();
            uid = config.uid();
            gid = config.gid();
        } else {
            String sudoUid = System.getenv("SUDO_UID");
            String sudoGid = System.getenv("SUDO_GID");
            if (sudoUid == null || sudoGid == null || !sudoUid.matches("[0-9]+") || !sudoGid.matches("[0-9]+")) {
                return;
            }
            uid = Integer.parseInt(sudoUid);
            gid = Integer.parseInt(sudoGid);
        }
        try (Stream<Path> all = Files.walk(directory)) {
            for (Path path : (Iterable<Path>) all::iterator) {
                Files.setAttribute(path, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
                Files.setAttribute(path, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
            }
        } catch (IOException e) {
            throw new CageException("cannot give " + directory + " to uid " + uid + ": " + e.getMessage());
        }
    }
}
