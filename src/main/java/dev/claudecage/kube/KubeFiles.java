package dev.claudecage.kube;

import dev.claudecage.CageException;
import dev.claudecage.config.CageConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes what {@link KubeManifests} generates into a folder: a YAML file per manifest, and the
 * seccomp profile for the nodes under {@code seccomp/}. The only class of this package that the
 * command names: the fabric8 model loads with it, and with no other command.
 */
public final class KubeFiles {

    private KubeFiles() {
    }

    /** One file's name under the folder, and its content. */
    public record Rendered(String name, String content) {
    }

    /** The contents of each file by name, in order: what {@link #write} puts on disk. */
    public static List<Rendered> render(CageConfig config, KubeRequest request) {
        List<Rendered> rendered = new ArrayList<>();
        for (KubeManifests.GeneratedFile file : KubeManifests.generate(config, request)) {
            rendered.add(new Rendered(file.name(), file.resource() != null ? KubeYaml.write(file.resource()) : file.text()));
        }
        return rendered;
    }

    /** Writes every file under {@code directory} (made if missing, files replaced); the paths written. */
    public static List<Path> write(CageConfig config, KubeRequest request, Path directory) {
        List<Path> written = new ArrayList<>();
        for (Rendered file : render(config, request)) {
            Path path = directory.resolve(file.name());
            try {
                Files.createDirectories(path.getParent());
                Files.writeString(path, file.content());
            } catch (IOException e) {
                throw new CageException("cannot write " + path + ": " + e.getMessage(),
                        "name a folder you can write with -o DIR");
            }
            written.add(path);
        }
        return written;
    }
}
