package dev.claudecage.image.dockerfile;

import java.nio.file.Path;

/** Where an instruction starts: the Dockerfile as the user named it, and the 1-based line. */
public record Location(Path file, int line) {

    @Override
    public String toString() {
        return file + ":" + line;
    }
}
