package dev.claudecage.it;

import dev.claudecage.config.ProtectedPath;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static dev.claudecage.it.CageHarness.ROOTFS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The protected paths of a mounted workspace, attacked from inside a real cage: each one, whether
 * it exists or not, can be neither written nor created, not by renaming over it, removing it,
 * renaming the folder it is in, nor through symbolic or hard links; files beside them can; and the
 * repository holds nothing afterwards but what the cage was allowed to write.
 */
class WorkspaceWallIT {

    /** The default list, with the files in .git it implies (commondir, config.worktree). */
    private static final List<ProtectedPath> PROTECTED = ProtectedPath.withImplied(
            ProtectedPath.DEFAULTS.stream().map(ProtectedPath::parse).toList());

    private List<String> leftoversBefore;

    @BeforeEach
    void requireHost() throws Exception {
        CageHarness.requireRootAndRootfs();
        leftoversBefore = CageHarness.leftovers();
    }

    /** Compared with before the test: other cages on this shared host come and go. */
    @AfterEach
    void nothingLeftBehind() throws Exception {
        List<String> added = new ArrayList<>(CageHarness.leftovers());
        added.removeAll(leftoversBefore);
        assertEquals(List.of(), added.stream().filter(item -> item.contains("/run-")).toList(),
                "the cage left something behind");
    }

    @Test
    void existingProtectedPathsHoldAndFilesBesideThemCanBeWritten(@TempDir Path repo) throws Exception {
        for (ProtectedPath path : PROTECTED) {
            Path host = repo.resolve(path.relative());
            if (path.directory()) {
                Files.createDirectories(host);
                Files.writeString(host.resolve("original"), "original\n");
            } else {
                Files.createDirectories(host.getParent());
                Files.writeString(host, "original\n");
            }
        }
        attackAndCheck(repo, Map.of());
    }

    @Test
    void missingProtectedPathsCannotBeCreatedAndLeaveNoTrace(@TempDir Path repo) throws Exception {
        Files.writeString(repo.resolve("main.c"), "int main(void) { return 0; }\n");
        attackAndCheck(repo, Map.of());
    }

    @Test
    void missingPathsInsideExistingFoldersHoldInAShiftedWorkspace(@TempDir Path repo) throws Exception {
        // .git and .claude exist, what git and Claude Code would read in them does not; and the
        // folder belongs to a host user 4242 who ran sudo, so the guards go through the shifted mount.
        Files.createDirectories(repo.resolve(".git/objects"));
        Files.writeString(repo.resolve(".git/HEAD"), "ref: refs/heads/main\n");
        Files.createDirectories(repo.resolve(".claude"));
        try (Stream<Path> all = Files.walk(repo)) {
            for (Path path : all.toList()) {
                Files.setAttribute(path, "unix:uid", 4242);
                Files.setAttribute(path, "unix:gid", 4242);
            }
        }
        attackAndCheck(repo, Map.of("SUDO_UID", "4242", "SUDO_GID", "4242"));
        assertEquals(4242, Files.getAttribute(repo.resolve(".git/beside-0"), "unix:uid"), "written as the host user");
    }

    @Test
    void aProtectedPathThatIsASymbolicLinkIsRefusedBeforeAnythingIsMade(@TempDir Path repo) throws Exception {
        Files.createSymbolicLink(repo.resolve(".vscode"), Path.of("/etc"));
        ownedByTheCage(repo);
        Map<String, String> before = snapshot(repo);

        CageHarness.Result result = CageHarness.launch(run(repo, "true"));

        assertEquals(125, result.exitCode(), result.toString());
        assertTrue(result.stderr().contains("symbolic link") && result.stderr().contains(".vscode"), result.toString());
        assertEquals(before, snapshot(repo), "nothing was made in the repository");
    }

    @Test
    void aProtectedFileWithAnotherHardLinkIsRefused(@TempDir Path repo) throws Exception {
        Files.writeString(repo.resolve(".envrc"), "export A=1\n");
        Files.createLink(repo.resolve("envrc-alias"), repo.resolve(".envrc"));
        ownedByTheCage(repo);

        CageHarness.Result result = CageHarness.launch(run(repo, "true"));

        assertEquals(125, result.exitCode(), result.toString());
        assertTrue(result.stderr().contains("hard links"), result.toString());
    }

    /** A checkout of the cage's own ids, as host uid 1000's would be: a folder of root's is never mounted writable. */
    private static void ownedByTheCage(Path repo) throws IOException {
        Files.setAttribute(repo, "unix:uid", 1000, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(repo, "unix:gid", 1000, LinkOption.NOFOLLOW_LINKS);
    }

    private static List<String> run(Path repo, String... command) {
        List<String> args = new ArrayList<>(List.of("run", "--rootfs", ROOTFS.toString(), "--network", "none",
                "--mount", repo + ":/workspace", "--"));
        args.addAll(List.of(command));
        return args;
    }

    /** Runs every attack on every protected path, then checks the answers and the repository. */
    private static void attackAndCheck(Path repo, Map<String, String> env) throws IOException {
        Files.setPosixFilePermissions(repo, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        if (env.isEmpty()) {
            try (Stream<Path> all = Files.walk(repo)) {
                for (Path path : all.toList()) {
                    Files.setAttribute(path, "unix:uid", 1000);
                    Files.setAttribute(path, "unix:gid", 1000);
                }
            }
        }
        Map<String, String> before = snapshot(repo);
        List<String> beside = new ArrayList<>();
        StringBuilder script = new StringBuilder("""
                deny() { label=$1; shift; if "$@" 2>/dev/null; then echo "HOLE $label"; else echo "DENIED $label"; fi; }
                allow() { label=$1; shift; if "$@" 2>/dev/null; then echo "OK $label"; else echo "FAILED $label"; fi; }
                # rename(2) itself: mv would fall back to copying across mounts, which proves nothing.
                ren() { perl -e 'rename($ARGV[0], $ARGV[1]) or exit 1' "$1" "$2"; }
                cd /workspace || exit 3
                """);
        int n = 0;
        for (ProtectedPath path : PROTECTED) {
            String p = path.relative();
            boolean exists = Files.exists(repo.resolve(p), LinkOption.NOFOLLOW_LINKS);
            boolean directory = path.directory() || (exists && Files.isDirectory(repo.resolve(p)));
            String tag = p + " (" + (exists ? "existing" : "missing") + ")";
            if (directory) {
                script.append(line("deny '%s create-inside' sh -c 'echo evil > %s/new'", tag, p));
                script.append(line("deny '%s mkdir-inside' mkdir %s/newdir", tag, p));
                script.append(line("mkdir .evil%d; deny '%s rename-over' ren .evil%d %s; rmdir .evil%d", n, tag, n, p, n));
                script.append(line("deny '%s remove' rm -r %s", tag, p));
                script.append(line("deny '%s rename-away' ren %s .moved%d", tag, p, n));
                script.append(line("deny '%s symlink-write' sh -c 'ln -sfn /workspace/%s .link%d && echo evil > .link%d/new'; "
                        + "rm -f .link%d", tag, p, n, n, n));
            } else {
                script.append(line("deny '%s write' sh -c 'echo evil >> %s'", tag, p));
                script.append(line("deny '%s create-or-truncate' sh -c ': > %s'", tag, p));
                script.append(line("echo evil > .evil%d; deny '%s rename-over' ren .evil%d %s; rm -f .evil%d", n, tag, n, p, n));
                script.append(line("deny '%s remove' rm %s", tag, p));
                script.append(line("deny '%s symlink-write' sh -c 'ln -sf /workspace/%s .link%d && echo evil >> .link%d'; "
                        + "rm -f .link%d", tag, p, n, n, n));
                script.append(line("deny '%s hard-link' ln %s .hard%d; rm -f .hard%d", tag, p, n, n));
            }
            if (p.contains("/")) {
                String top = p.substring(0, p.indexOf('/'));
                script.append(line("deny '%s parent-rename' ren %s .parent%d", tag, top, n));
                Path parent = repo.resolve(p).getParent();
                if (Files.isDirectory(parent, LinkOption.NOFOLLOW_LINKS)) {
                    String file = repo.relativize(parent).resolve("beside-" + n).toString();
                    script.append(line("allow '%s beside' sh -c 'echo ok > %s'", tag, file));
                    beside.add(file);
                }
            } else {
                script.append(line("allow '%s beside' sh -c 'echo ok > beside-%d'", tag, n));
                beside.add("beside-" + n);
            }
            n++;
        }

        CageHarness.Result result = CageHarness.launch(run(repo, "sh", "-c", script.toString()), "", env,
                Duration.ofMinutes(2));

        assertEquals(0, result.exitCode(), result.toString());
        List<String> answers = result.stdout().lines().toList();
        assertFalse(answers.isEmpty(), result.toString());
        for (String answer : answers) {
            assertTrue(answer.startsWith("DENIED ") || answer.startsWith("OK "), "a hole or a refused write beside: "
                    + answer + "\n" + result);
        }
        assertEquals(n, answers.stream().filter(answer -> answer.startsWith("OK ")).count()
                + (n - beside.size()), "every write beside a protected path was tried: " + result);
        Map<String, String> expected = new TreeMap<>(before);
        beside.forEach(file -> expected.put(file, "file ok\n"));
        assertEquals(expected, snapshot(repo), "the repository holds what it held and the files beside, nothing more");
    }

    private static String line(String format, Object... args) {
        return String.format(format, args) + "\n";
    }

    /** Each path in the tree with its kind and, for files, content; links are not followed. */
    private static Map<String, String> snapshot(Path root) throws IOException {
        Map<String, String> entries = new TreeMap<>();
        try (Stream<Path> all = Files.walk(root)) {
            for (Path path : all.filter(path -> !path.equals(root)).toList()) {
                String kind = Files.isSymbolicLink(path) ? "link " + Files.readSymbolicLink(path)
                        : Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS) ? "dir"
                        : "file " + Files.readString(path);
                entries.put(root.relativize(path).toString(), kind);
            }
        }
        return entries;
    }
}
