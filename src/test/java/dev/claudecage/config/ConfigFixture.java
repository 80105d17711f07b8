package dev.claudecage.config;

import dev.claudecage.UserInputException;
import dev.claudecage.host.HostIds;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Config layers in a temporary directory: a system file, a user file, an environment and a 2-CPU
 * host where claude-cage runs as root under sudo by user 4242 (a person, so the tests' folders may
 * be mounted writable whoever owns them) and keeps no state.
 */
final class ConfigFixture {

    final Path dir;
    final Path systemFile;
    final Path userFile;
    private final Map<String, String> environment = new HashMap<>();
    private int cpuCount = 2;
    private boolean rootless;
    private Optional<HostIds> sudoUser = Optional.of(new HostIds(4242, 4242));
    private List<Path> stateFolders = List.of();

    ConfigFixture(Path dir) {
        this.dir = dir;
        this.systemFile = dir.resolve("etc/claude-cage/config.yaml");
        this.userFile = dir.resolve("home/.config/claude-cage/config.yaml");
    }

    ConfigFixture system(String yaml) {
        write(systemFile, yaml);
        return this;
    }

    ConfigFixture user(String yaml) {
        write(userFile, yaml);
        return this;
    }

    ConfigFixture env(String name, String value) {
        environment.put(name, value);
        return this;
    }

    ConfigFixture cpus(int count) {
        cpuCount = count;
        return this;
    }

    /** Run rootless, where mounts are never shifted. */
    ConfigFixture rootless() {
        rootless = true;
        return this;
    }

    /** The user who ran sudo, or none. */
    ConfigFixture sudoUser(Optional<HostIds> ids) {
        sudoUser = ids;
        return this;
    }

    ConfigFixture stateFolders(Path... folders) {
        stateFolders = List.of(folders);
        return this;
    }

    ConfigLoader loader() {
        return loaderIn(dir);
    }

    /** A loader for a command run in {@code workingDir}. */
    ConfigLoader loaderIn(Path workingDir) {
        return new ConfigLoader(systemFile, userFile, environment, new HostFacts(cpuCount, rootless, sudoUser, stateFolders),
                workingDir);
    }

    EffectiveConfig load() {
        return loader().load(Map.of());
    }

    /** The message of the error that loading gives. */
    String loadError() {
        return assertThrows(UserInputException.class, this::load).getMessage();
    }

    /** A directory under the fixture, created, for mount sources and rootfs. */
    Path directory(String name) {
        try {
            return Files.createDirectories(dir.resolve(name)).toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void write(Path file, String text) {
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
