package dev.claudecage.cli;

import dev.claudecage.image.archive.ImageImporter;
import dev.claudecage.image.store.ImageName;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;

@Command(name = "import",
        description = "Imports an image from an OCI image layout (a directory or a tar of one) or a 'docker save' "
                + "archive, e.g. for FROM lines the builder cannot make itself.")
final class ImageImportCommand extends BaseCommand {

    @Parameters(paramLabel = "PATH", description = "The OCI layout directory, or the archive.")
    Path source;

    @Option(names = {"--name", "-t"}, paramLabel = "NAME[:TAG]",
            description = "The name to store it under. Default: the name the archive carries.")
    String name;

    @Override
    public Integer call() throws InterruptedException {
        return RootlessImageWrites.writingTheStore(spec, context, store -> {
            PrintWriter out = spec.commandLine().getOut();
            ImageImporter.Result result = new ImageImporter(store, context.runner())
                    .importImage(source, name == null ? null : ImageName.parse(name), note -> {
                        out.println(note);
                        out.flush();
                    });
            out.println("imported " + result.name() + " (" + result.id().shortHex() + "), " + result.layers()
                    + " layer(s)");
            out.flush();
            return 0;
        });
    }
}
