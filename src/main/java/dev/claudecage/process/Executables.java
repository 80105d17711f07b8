package dev.claudecage.process;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Stream;

/** Finds the host tools claude-cage runs. */
public final class Executables {

    private static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    /** runc, nft and newuidmap live in sbin, which an unprivileged user's PATH usually leaves out. */
    private static final String SYSTEM_DIRS = "/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin";

    private Executables() {
    }

    /** The first executable {@code name} on the PATH, then in the system's sbin and bin folders. */
    public static Optional<Path> find(String name) {
        String path = System.getenv().getOrDefault("PATH", DEFAULT_PATH);
        return Stream.concat(Arrays.stream(path.split(File.pathSeparator)), Arrays.stream(SYSTEM_DIRS.split(":")))
                .filter(dir -> !dir.isEmpty())
                .map(dir -> Path.of(dir, name))
                .filter(Files::isExecutable)
                .findFirst();
    }
}
