package dev.claudecage.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A syscall-heavy workload to show what gVisor's kernel costs where it is paid: thousands of file
 * system calls and some twenty process starts. The bench makes a bare git repository of
 * {@link #FILES} small C files, the same bytes and the same commit id on every run, and the cage
 * clones it from a read-only mount to /tmp, then "builds" it with the tools the cli image has
 * (git, sh, cat, tar, find, sha256sum): a {@code git status} over the checkout, one {@code cat} per
 * module as its compile, a tar of the tree and a checksum of every file. The script ends non-zero
 * when the build did not produce what it should, so a broken run is no sample.
 */
final class GitWorkload {

    static final int MODULES = 10;
    static final int FILES_PER_MODULE = 100;
    static final int FILES = MODULES * FILES_PER_MODULE;
    /** Where the cage sees the bare repository, read-only. */
    static final String MOUNT_POINT = "/repo";

    /** The same commit on every run: fixed author, committer and dates, no user or system configuration. */
    private static final Map<String, String> GIT_ENVIRONMENT = Map.of(
            "GIT_AUTHOR_NAME", "claude-cage bench", "GIT_AUTHOR_EMAIL", "bench@claude-cage.invalid",
            "GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z", "GIT_COMMITTER_NAME", "claude-cage bench",
            "GIT_COMMITTER_EMAIL", "bench@claude-cage.invalid", "GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z",
            "GIT_CONFIG_NOSYSTEM", "1", "GIT_CONFIG_GLOBAL", "/dev/null");

    /**
     * The cage's part. The mount is the host's root's, so git's ownership check would refuse it
     * ("dubious ownership"): the cage trusts it in its own throw-away home.
     */
    static final String SCRIPT = String.join("; ", List.of(
            "set -e",
            "git config --global safe.directory '*'",
            "git clone -q " + MOUNT_POINT + " /tmp/src",
            "cd /tmp/src",
            "git status --porcelain > /dev/null",
            "mkdir /tmp/build",
            "for module in m*; do cat \"$module\"/*.c > /tmp/build/\"$module\".o; done",
            "tar -cf /tmp/build/tree.tar --exclude=.git .",
            "find . -name '*.c' -type f | xargs sha256sum > /tmp/build/SUMS",
            "set -- /tmp/build/*.o",
            "test $# = " + MODULES,
            "test \"$(wc -l < /tmp/build/SUMS)\" = " + FILES));

    static final String DESCRIPTION = String.format(Locale.ROOT, "git clone of a %d-file repository (read-only mount) "
            + "to /tmp, git status, %d cat 'compiles', tar, sha256sum of every file", FILES, MODULES);

    private GitWorkload() {
    }

    /** The path of one source file in the tree. */
    static String path(int module, int file) {
        return String.format(Locale.ROOT, "m%d/f%03d.c", module, file);
    }

    /** One source file: a few lines of C, different in every file so that git stores each. */
    static String source(int module, int file) {
        return String.format(Locale.ROOT, """
                /* module %1$d, file %2$d: made by the claude-cage bench */
                int m%1$d_f%2$d(int x) {
                    return x * %3$d + %2$d;
                }
                """, module, file, module * FILES_PER_MODULE + file + 1);
    }

    /**
     * Makes the bare repository under {@code directory} with the host's git (its work tree is
     * removed again) and returns its path.
     */
    static Path makeBareRepository(String git, Path directory) throws IOException, InterruptedException {
        Path tree = directory.resolve("tree");
        Path bare = directory.resolve("repository.git");
        Files.createDirectories(tree);
        for (int module = 0; module < MODULES; module++) {
            Files.createDirectories(tree.resolve("m" + module));
            for (int file = 0; file < FILES_PER_MODULE; file++) {
                Files.writeString(tree.resolve(path(module, file)), source(module, file), StandardCharsets.UTF_8);
            }
        }
        git(git, tree, "init", "-q");
        git(git, tree, "add", "-A");
        git(git, tree, "commit", "-q", "-m", "the claude-cage bench's workload");
        git(git, directory, "clone", "-q", "--bare", "--no-local", tree.toString(), bare.toString());
        deleteTree(tree);
        return bare;
    }

    private static void git(String git, Path in, String... args) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of(git, "-C", in.toString()));
        argv.addAll(List.of(args));
        Trial.Commands.output(argv, GIT_ENVIRONMENT, 120);
    }

    private static void deleteTree(Path root) throws IOException {
        try (var paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}
