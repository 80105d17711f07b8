package dev.claudecage.workspace;

import dev.claudecage.UserInputException;
import dev.claudecage.config.CageConfig;
import dev.claudecage.config.MountOwnership;
import dev.claudecage.config.MountSpec;
import dev.claudecage.host.HostIds;
import dev.claudecage.host.UntrustedText;
import dev.claudecage.process.CommandResult;
import dev.claudecage.process.ProcessRunner;

import java.io.IOException;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Git repositories that a cage left inside its writable mounts, beside a mount's own repository,
 * whose configuration or hooks make git run a program. The workspace wall keeps the top
 * repository's {@code .git/config} and hooks read-only, but a cage may make a repository in any
 * subfolder and register it as a submodule in the (writable) index: {@code git status} on the
 * host then runs {@code git status} in it, and with it that repository's {@code core.fsmonitor},
 * as the user. No mount can forbid a folder named {@code .git} anywhere, so this finds them for
 * {@code run}, {@code stop} and {@code status} to name before the user runs git there. In the
 * mount's own repository it names {@code .git/commondir} and {@code .git/config.worktree}, which the
 * wall leaves writable in the pinned .git and which point git at other configuration.
 */
public final class NestedRepositories {

    /** Entries looked at per mount before the scan stops and says so; a checkout with node_modules has many. */
    static final int MAX_ENTRIES = 500_000;

    /** One repository that would run programs, and what in it would. */
    public record Finding(Path repository, Path gitDir, List<String> reasons) {

        /** A line for the user: where, what, and how to look; the names are the cage's, so escaped. */
        public String warning() {
            return UntrustedText.escape("a git repository at " + repository + " runs programs from its "
                    + String.join(", ", reasons) + ": git there, or git status in the repository around it "
                    + "(which looks into submodules), would run them as you; look first: git config --file "
                    + gitDir.resolve("config") + " --list");
        }
    }

    private static final Set<String> PROGRAM_KEYS = Set.of("core.hookspath", "core.sshcommand", "core.pager",
            "core.editor", "core.askpass", "core.gitproxy", "sequence.editor", "gpg.program", "credential.helper",
            "uploadpack.packobjectshook", "include.path", "interactive.difffilter");
    private static final Pattern PROGRAM_KEY_PATTERNS = Pattern.compile(
            "(gpg\\..+\\.program|credential\\..+\\.helper|diff\\..+\\.(command|textconv)|merge\\..+\\.driver"
                    + "|filter\\..+\\.(clean|smudge|process)|includeif\\..+\\.path|pager\\..+)");
    private static final Set<String> BOOLEAN_WORDS = Set.of("", "true", "false", "yes", "no", "on", "off", "1", "0");

    private NestedRepositories() {
    }

    /** The findings in every writable folder mount of {@code config}. */
    public static List<Finding> inWritableMounts(CageConfig config, ProcessRunner runner) {
        List<Finding> findings = new ArrayList<>();
        for (MountSpec mount : config.mounts()) {
            if (!mount.readOnly() && Files.isDirectory(mount.source(), LinkOption.NOFOLLOW_LINKS)) {
                HostIds owner;
                try {
                    owner = MountOwnership.workOwner(config, mount);
                } catch (IOException | UserInputException e) {
                    // Gone, or now refused: no cage of this configuration writes there.
                    continue;
                }
                findings.addAll(find(mount.source(), owner, runner));
            }
        }
        return findings;
    }

    /** The repositories below {@code root} (its own .git not counted) that would run programs; git runs as {@code owner}. */
    public static List<Finding> find(Path root, HostIds owner, ProcessRunner runner) {
        List<Finding> findings = new ArrayList<>();
        HostGit git = new HostGit(runner, owner.uid(), owner.gid(), root);
        ownRepository(root, git).ifPresent(findings::add);
        for (Path[] repository : repositories(root)) {
            List<String> reasons = reasons(repository[1], git);
            if (!reasons.isEmpty()) {
                findings.add(new Finding(repository[0], repository[1], reasons));
            }
        }
        return findings;
    }

    /**
     * The mount's own repository, for what the wall leaves writable in its pinned .git that points
     * git at other configuration: {@code commondir} (git then takes config and hooks from the folder
     * it names; a main checkout never has one) and {@code config.worktree} with keys that run programs.
     */
    private static java.util.Optional<Finding> ownRepository(Path root, HostGit git) {
        Path gitDir = root.resolve(".git");
        if (!Files.isDirectory(gitDir, LinkOption.NOFOLLOW_LINKS)) {
            return java.util.Optional.empty();
        }
        List<String> reasons = new ArrayList<>();
        Path commonDir = gitDir.resolve("commondir");
        if (Files.exists(commonDir, LinkOption.NOFOLLOW_LINKS)) {
            String target;
            try {
                target = Files.readString(commonDir).strip();
            } catch (IOException e) {
                target = "(unreadable)";
            }
            // "." is .git itself: the wall's placeholder while a cage runs, and harmless.
            if (!target.equals(".")) {
                reasons.add(".git/commondir (git takes its config and hooks from " + target + ")");
            }
        }
        Path worktreeConfig = gitDir.resolve("config.worktree");
        if (Files.isRegularFile(worktreeConfig, LinkOption.NOFOLLOW_LINKS)) {
            programKeys(worktreeConfig, git).forEach(key -> reasons.add(".git/config.worktree " + key));
        }
        return reasons.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(new Finding(root, gitDir, reasons));
    }

    /** Each nested repository as {working folder, git folder}: a .git folder, or a .git file's gitdir. */
    static List<Path[]> repositories(Path root) {
        List<Path[]> found = new ArrayList<>();
        int[] entries = {0};
        try {
            Files.walkFileTree(root, EnumSet.noneOf(FileVisitOption.class), Integer.MAX_VALUE, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attributes) {
                    if (++entries[0] > MAX_ENTRIES) {
                        return FileVisitResult.TERMINATE;
                    }
                    if (dir.getFileName() != null && dir.getFileName().toString().equals(".git")) {
                        if (!dir.getParent().equals(root)) {
                            found.add(new Path[] {dir.getParent(), dir});
                        }
                        return FileVisitResult.SKIP_SUBTREE;
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
                    if (++entries[0] > MAX_ENTRIES) {
                        return FileVisitResult.TERMINATE;
                    }
                    if (attributes.isRegularFile() && file.getFileName().toString().equals(".git")
                            && !file.getParent().equals(root)) {
                        gitDirOf(file).ifPresent(gitDir -> found.add(new Path[] {file.getParent(), gitDir}));
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            // What was found before the walk failed is still worth saying.
        }
        return found;
    }

    /** The folder a {@code .git} file names ("gitdir: PATH", relative to the file's folder). */
    private static java.util.Optional<Path> gitDirOf(Path dotGitFile) {
        try {
            String first = Files.readAllLines(dotGitFile).stream().findFirst().orElse("");
            if (!first.startsWith("gitdir:")) {
                return java.util.Optional.empty();
            }
            return java.util.Optional.of(dotGitFile.getParent().resolve(first.substring("gitdir:".length()).strip())
                    .normalize());
        } catch (IOException | RuntimeException e) {
            return java.util.Optional.empty();
        }
    }

    /** What in this git folder would run a program: configuration keys, and hooks that are not samples. */
    static List<String> reasons(Path gitDir, HostGit git) {
        Set<String> reasons = new LinkedHashSet<>();
        Path config = gitDir.resolve("config");
        if (Files.isRegularFile(config)) {
            reasons.addAll(programKeys(config, git));
        }
        try (var hooks = Files.list(gitDir.resolve("hooks"))) {
            hooks.filter(hook -> Files.isRegularFile(hook) && !hook.getFileName().toString().endsWith(".sample"))
                    .forEach(hook -> reasons.add("hooks/" + hook.getFileName()));
        } catch (IOException noHooks) {
            // No hooks folder: nothing to run from there.
        }
        return List.copyOf(reasons);
    }

    /** The keys of a git config file that run programs; a file git cannot read is named as such. */
    private static List<String> programKeys(Path config, HostGit git) {
        // --file reads that file only, and without --includes follows none of its include.path.
        CommandResult listed = git.runAllowingFailure("config", "--file", config.toString(), "--null", "--list");
        if (!listed.succeeded()) {
            return List.of("a config git cannot read (" + listed.stderr().strip() + ")");
        }
        List<String> keys = new ArrayList<>();
        for (String entry : listed.stdout().split("\0")) {
            int newline = entry.indexOf('\n');
            String key = (newline < 0 ? entry : entry.substring(0, newline)).toLowerCase(Locale.ROOT);
            String value = newline < 0 ? "" : entry.substring(newline + 1);
            if (runsAProgram(key, value)) {
                keys.add(key);
            }
        }
        return keys;
    }

    static boolean runsAProgram(String key, String value) {
        if (key.equals("core.fsmonitor")) {
            return !BOOLEAN_WORDS.contains(value.strip().toLowerCase(Locale.ROOT));
        }
        if (key.startsWith("alias.")) {
            return value.stripLeading().startsWith("!");
        }
        return PROGRAM_KEYS.contains(key) || PROGRAM_KEY_PATTERNS.matcher(key).matches();
    }
}
