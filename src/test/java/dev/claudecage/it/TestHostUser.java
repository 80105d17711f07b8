package dev.claudecage.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway login with a home, made by the test as root, for what the host reads from the
 * invoking user's home under sudo (their Claude login, their Claude Code setup). {@link #close()}
 * removes the user and its home on every path.
 */
final class TestHostUser implements AutoCloseable {

    final String name;
    final int uid;
    final int gid;
    final Path home;

    private TestHostUser(String name, int uid, int gid, Path home) {
        this.name = name;
        this.uid = uid;
        this.gid = gid;
        this.home = home;
    }

    static TestHostUser create() throws IOException, InterruptedException {
        byte[] bytes = new byte[4];
        new SecureRandom().nextBytes(bytes);
        String name = "cchu" + HexFormat.of().formatHex(bytes);
        run(List.of("useradd", "--create-home", "--shell", "/bin/sh", "-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0", name));
        try {
            int uid = Integer.parseInt(run(List.of("id", "-u", name)).strip());
            int gid = Integer.parseInt(run(List.of("id", "-g", name)).strip());
            return new TestHostUser(name, uid, gid, Path.of("/home", name));
        } catch (IOException | RuntimeException e) {
            run(List.of("userdel", "--remove", name));
            throw e;
        }
    }

    /** The environment sudo gives claude-cage when this user runs it. */
    Map<String, String> sudoEnvironment() {
        return Map.of("SUDO_USER", name, "SUDO_UID", Integer.toString(uid), "SUDO_GID", Integer.toString(gid));
    }

    /** Writes {@code content} at {@code relative} in the home, folders on the way made, all the user's. */
    Path write(String relative, String content) throws IOException {
        Path file = home.resolve(relative);
        mkdirs(file.getParent());
        Files.writeString(file, content);
        own(file);
        return file;
    }

    /** Makes the folder {@code relative} in the home (and those on the way), all the user's. */
    Path mkdirs(String relative) throws IOException {
        return mkdirs(home.resolve(relative));
    }

    private Path mkdirs(Path directory) throws IOException {
        Path relative = home.relativize(directory);
        Path current = home;
        for (Path name : relative) {
            current = current.resolve(name);
            if (!Files.exists(current, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectory(current);
                own(current);
            }
        }
        return directory;
    }

    void own(Path path) throws IOException {
        Files.setAttribute(path, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(path, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
    }

    @Override
    public void close() throws IOException {
        try {
            run(List.of("userdel", "--remove", name));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while removing the test user " + name, e);
        }
    }

    private static String run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            process.destroyForcibly();
            throw new IOException(String.join(" ", command) + " failed: " + output);
        }
        return output;
    }
}
