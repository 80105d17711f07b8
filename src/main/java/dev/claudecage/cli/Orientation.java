package dev.claudecage.cli;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * What {@code claude-cage} prints with no arguments: the commands most people need and where the
 * docs are, in one screen, instead of the whole command list (that is {@code claude-cage help}).
 */
final class Orientation {

    /** Where the README sits from the jar: in the source tree (target/..), installed (PREFIX/lib/claude-cage/../../share/doc). */
    private static final List<String> README_FROM_JAR_FOLDER = List.of("../README.md", "../../share/doc/claude-cage/README.md");

    private Orientation() {
    }

    static String text(Optional<Path> readme) {
        return """
                claude-cage runs Claude Code, or any command, in a hardened sandbox, without Docker.

                The commands most people need:
                  sudo claude-cage run --mount $PWD:/workspace -- claude
                        Claude Code on this folder, in a cage that is gone when it ends
                  sudo claude-cage start --name work --mount $PWD:/workspace --detach
                        the same in a session that keeps running (attach, list, stop)
                  sudo claude-cage verify
                        prove that every wall holds

                First time: sudo claude-cage build cli (the Claude Code image, about a minute).
                In a project: sudo claude-cage init (the hosts its package managers need, and its mount).
                Every command: claude-cage help, and claude-cage help COMMAND.
                """ + readme.map(path -> "Docs: " + path + " and the docs/ folder beside it.\n")
                .orElse("Docs: README.md and docs/ in the source tree.\n");
    }

    /** The README next to this installation, if it is there. */
    static Optional<Path> docs() {
        Path jarFolder;
        try {
            jarFolder = Path.of(Orientation.class.getProtectionDomain().getCodeSource().getLocation().toURI()).getParent();
        } catch (URISyntaxException | SecurityException | IllegalArgumentException e) {
            return Optional.empty();
        }
        if (jarFolder == null) {
            return Optional.empty();
        }
        return README_FROM_JAR_FOLDER.stream().map(relative -> jarFolder.resolve(relative).normalize())
                .filter(Files::isRegularFile).findFirst();
    }
}
