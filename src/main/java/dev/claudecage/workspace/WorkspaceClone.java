package dev.claudecage.workspace;

import dev.claudecage.CageException;
import dev.claudecage.UserInputException;
import dev.claudecage.config.CageConfig;
import dev.claudecage.config.MountOwnership;
import dev.claudecage.config.MountSpec;
import dev.claudecage.config.ProtectedPath;
import dev.claudecage.host.Directories;
import dev.claudecage.host.Host;
import dev.claudecage.host.HostIds;
import dev.claudecage.json.Json;
import dev.claudecage.oci.SpecBuilder;
import dev.claudecage.process.CommandResult;
import dev.claudecage.process.ProcessRunner;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * {@code start --clone}: the agent works on a private copy of the repository, made by the
 * launcher outside the repository and the cage ({@code CLONE_ROOT/workspace}, owned by the
 * repository's owner; see {@code SessionRoots.cloneDir}), and the original stays out of the cage. {@code diff} and {@code apply} read the copy
 * without trusting it: its config, hooks, attributes and the rest of its .git were in the agent's
 * hands (the wall keeps .git/config and .git/hooks, but .git/commondir or info/ would do), so no
 * git command ever runs with the copy as its repository. Its HEAD is read as plain text here, and
 * its objects through a review repository of ours ({@code clone/review.git}) whose alternates
 * name the copy's and the original's object folders; git validates what it moves between them.
 */
public final class WorkspaceClone {

    static final String COPY = "workspace";
    static final String REVIEW = "review.git";
    static final String RECORD = "clone.json";
    private static final Pattern SHA = Pattern.compile("[0-9a-f]{40}");
    private static final Pattern BRANCH_REF = Pattern.compile("refs/heads/[A-Za-z0-9._/-]+");
    private static final long MAX_REF_BYTES = 64 * 1024;

    /**
     * What the copy was made from, kept beside the session's record (0600).
     *
     * @param base      the original's commit when the copy was made
     * @param cloneRoot the folder holding the copy and the review repository
     */
    record Origin(String original, String branch, String base, int uid, int gid, String cloneRoot) {
    }

    private final Path root;
    private final Origin origin;
    private final HostGit git;

    private WorkspaceClone(Path root, Origin origin, ProcessRunner runner) {
        this.root = root;
        this.origin = origin;
        this.git = new HostGit(runner, origin.uid(), origin.gid(), root);
    }

    /**
     * Makes the copy of the repository mounted at /workspace in {@code config}, and returns the
     * configuration with the copy mounted there instead (the original is mounted nowhere).
     */
    public static CageConfig create(CageConfig config, Path cloneRoot, Path dataDir, ProcessRunner runner) {
        MountSpec workspace = config.mounts().stream().filter(mount -> mount.target().equals(SpecBuilder.WORKSPACE))
                .findFirst().orElseThrow(() -> new UserInputException("--clone copies the repository mounted at "
                        + SpecBuilder.WORKSPACE + ", and none is", "add --mount REPOSITORY:" + SpecBuilder.WORKSPACE));
        Path original = workspace.source();
        HostIds owner;
        try {
            owner = MountOwnership.workOwner(config, workspace);
        } catch (IOException e) {
            throw new CageException("cannot read the owner of " + original + ": " + e.getMessage());
        }
        int self = Host.effectiveUid();
        if (self != 0 && owner.uid() != self) {
            throw new UserInputException("--clone copies " + original + " as its owner (uid " + owner.uid()
                    + "), and without root claude-cage can act only as you (uid " + self + ")",
                    "clone a repository of your own, or start the session with sudo");
        }
        HostGit inOriginal = new HostGit(runner, owner.uid(), owner.gid(), original);
        CommandResult top = inOriginal.runAllowingFailure("rev-parse", "--show-toplevel");
        if (!top.succeeded() || !Path.of(top.stdout().strip()).equals(original)) {
            throw new UserInputException("--clone needs the top folder of a git repository at " + SpecBuilder.WORKSPACE
                    + ", and " + original + " is not one" + (top.succeeded() ? " (its top is " + top.stdout().strip() + ")"
                    : ": " + top.stderr().strip()), "mount the repository's top folder");
        }
        CommandResult head = inOriginal.runAllowingFailure("rev-parse", "--verify", "-q", "HEAD");
        if (!head.succeeded()) {
            throw new UserInputException("the repository " + original + " has no commit yet, so there is nothing to copy",
                    "commit first, or start without --clone");
        }
        CommandResult branch = inOriginal.runAllowingFailure("symbolic-ref", "--short", "-q", "HEAD");
        String objects = inOriginal.value("rev-parse", "--path-format=absolute", "--git-common-dir") + "/objects";
        try {
            Files.createDirectories(cloneRoot.getParent());
            Files.setPosixFilePermissions(cloneRoot.getParent(), PosixFilePermissions.fromString("rwx--x--x"));
            Directories.createPrivate(cloneRoot);
            Files.setAttribute(cloneRoot, "unix:gid", owner.gid(), LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(cloneRoot, "unix:uid", owner.uid(), LinkOption.NOFOLLOW_LINKS);
            HostGit inClone = inOriginal.in(cloneRoot);
            // No hard links: the cage could otherwise write the original's object files through its copy.
            inClone.run("clone", "--quiet", "--no-hardlinks", original.toString(), COPY);
            inClone.run("init", "--quiet", "--bare", REVIEW);
            inClone.run("--git-dir=" + REVIEW, "config", "receive.fsckObjects", "true");
            // Relative to review.git/objects; the copy's first, then the original's, both only read.
            Path alternates = cloneRoot.resolve(REVIEW).resolve("objects/info/alternates");
            Files.writeString(alternates, "../../" + COPY + "/.git/objects\n" + objects + "\n");
            Files.setAttribute(alternates, "unix:uid", owner.uid(), LinkOption.NOFOLLOW_LINKS);
            Origin origin = new Origin(original.toString(), branch.succeeded() ? branch.stdout().strip() : null,
                    head.stdout().strip(), owner.uid(), owner.gid(), cloneRoot.toString());
            Directories.writePrivateFile(dataDir.resolve(RECORD), Json.write(origin));
        } catch (IOException e) {
            throw new CageException("cannot make the copy of " + original + " in " + cloneRoot + ": " + e.getMessage());
        }
        return config.withMounts(config.mounts().stream()
                .map(mount -> mount == workspace ? new MountSpec(cloneRoot.resolve(COPY), mount.target(), false) : mount)
                .toList());
    }

    /** The copy of a session started with --clone. */
    public static WorkspaceClone open(String session, Path dataDir, ProcessRunner runner) {
        try {
            Origin origin = Json.read(Files.readString(dataDir.resolve(RECORD)), Origin.class);
            return new WorkspaceClone(Path.of(origin.cloneRoot()), origin, runner);
        } catch (NoSuchFileException e) {
            throw new UserInputException("session '" + session + "' works on its mounts directly, not on a copy",
                    "diff and apply are for sessions started with --clone");
        } catch (IOException | RuntimeException e) {
            throw new CageException("cannot read " + dataDir.resolve(RECORD) + ": " + e.getMessage());
        }
    }

    public Path original() {
        return Path.of(origin.original());
    }

    /** The agent's commits and its uncommitted changes, against the original's current commit. */
    public String diff(boolean statOnly) {
        String head = copyHead();
        String tip = originalTip();
        StringBuilder out = new StringBuilder();
        String log = review("log", "--format=%h %s", tip + ".." + head);
        out.append(log.isEmpty() ? "# no commits beyond " + shortName() + "\n"
                : "# commits beyond " + shortName() + ":\n" + log.lines().map(line -> "#   " + line + "\n")
                .reduce("", String::concat));
        if (!log.isEmpty()) {
            out.append(review("diff", statOnly ? "--stat" : "--patch", tip + "..." + head));
        }
        String uncommitted = uncommitted(head, statOnly);
        out.append(uncommitted.isEmpty() ? "# no uncommitted changes in the copy\n"
                : "# uncommitted changes in the copy (apply leaves these out):\n" + uncommitted);
        return out.toString();
    }

    /** What {@link #apply} did: the commits it brought over, and whether changes were left behind. */
    public record Applied(String branch, String from, String to, int commits, boolean uncommittedLeft) {
    }

    /**
     * Fast-forwards the original's current branch to the copy's HEAD. Refuses a dirty or detached
     * original, a branch that went its own way, and commits that touch a protected path.
     */
    public Applied apply(List<ProtectedPath> protectedPaths, String session) {
        HostGit inOriginal = git.in(original());
        String head = copyHead();
        CommandResult branch = inOriginal.runAllowingFailure("symbolic-ref", "--short", "-q", "HEAD");
        if (!branch.succeeded()) {
            throw new UserInputException("the original " + original() + " is not on a branch (detached HEAD)",
                    "check out the branch to bring the commits onto, then apply again");
        }
        String dirty = inOriginal.value("status", "--porcelain", "--untracked-files=no");
        if (!dirty.isEmpty()) {
            throw new UserInputException("the original " + original() + " has uncommitted changes:\n" + dirty,
                    "commit or stash them, then apply again");
        }
        String tip = originalTip();
        if (tip.equals(head)) {
            return new Applied(branch.stdout().strip(), tip, head, 0, !uncommitted(head, true).isEmpty());
        }
        if (!git.runAllowingFailure("--git-dir=" + REVIEW, "merge-base", "--is-ancestor", tip, head).succeeded()) {
            throw new UserInputException("the branch " + branch.stdout().strip() + " in " + original()
                    + " has commits the session's copy does not, so its commits cannot be fast-forwarded onto it",
                    "see them with: claude-cage diff " + session + "; then bring them over by hand (git am, "
                            + "cherry-pick) or reset the branch to " + tip.substring(0, 12) + " first");
        }
        List<String> touched = review("diff", "--name-only", tip, head).lines()
                .filter(path -> protectedPaths.stream().anyMatch(p -> path.equals(p.relative())
                        || path.startsWith(p.relative() + "/")))
                .toList();
        if (!touched.isEmpty()) {
            throw new UserInputException("the session's commits change protected paths, which the host would run "
                    + "or trust: " + String.join(", ", touched), "review them with: claude-cage diff " + session
                    + "; bring over what you trust by hand");
        }
        int commits = Integer.parseInt(review("rev-list", "--count", tip + ".." + head).strip());
        String ref = "refs/claude-cage/apply-" + session;
        git.run("--git-dir=" + REVIEW, "push", "--quiet", original().toString(), head + ":" + ref);
        try {
            inOriginal.run("merge", "--quiet", "--ff-only", ref);
        } finally {
            inOriginal.runAllowingFailure("update-ref", "-d", ref);
        }
        return new Applied(branch.stdout().strip(), tip, head, commits, !uncommitted(head, true).isEmpty());
    }

    private String shortName() {
        return origin.original() + (origin.branch() == null ? "" : " (" + origin.branch() + " at copy time)");
    }

    private String originalTip() {
        return git.in(original()).value("rev-parse", "--verify", "HEAD");
    }

    private String review(String... args) {
        String[] withDir = new String[args.length + 1];
        withDir[0] = "--git-dir=" + REVIEW;
        System.arraycopy(args, 0, withDir, 1, args.length);
        return git.run(withDir).stdout();
    }

    /** The copy's work tree against its HEAD, through a throwaway index of the review repository. */
    private String uncommitted(String head, boolean statOnly) {
        // Absolute: git reads it from the top of the work tree.
        Map<String, String> index = Map.of("GIT_INDEX_FILE", root.resolve(REVIEW).resolve("claude-cage-uncommitted.index").toString());
        try {
            git.runWith(index, "--git-dir=" + REVIEW, "--work-tree=" + COPY, "read-tree", head);
            git.runWith(index, "--git-dir=" + REVIEW, "--work-tree=" + COPY, "add", "--all");
            return git.runWith(index, "--git-dir=" + REVIEW, "--work-tree=" + COPY, "diff", "--cached",
                    statOnly ? "--stat" : "--patch", head).stdout();
        } finally {
            try {
                Files.deleteIfExists(root.resolve(REVIEW).resolve("claude-cage-uncommitted.index"));
            } catch (IOException e) {
                System.err.println("claude-cage: could not remove the review index: " + e.getMessage());
            }
        }
    }

    /**
     * The copy's HEAD commit, read as text without following links (the agent may have put any
     * there), and checked to be a commit the review repository can see.
     */
    String copyHead() {
        Path gitDir = root.resolve(COPY).resolve(".git");
        String head = readRef(gitDir, "HEAD");
        if (head.startsWith("ref: ")) {
            String ref = head.substring(5).strip();
            if (!BRANCH_REF.matcher(ref).matches() || ref.contains("..") || ref.contains("//")) {
                throw new CageException("the copy's HEAD names '" + ref + "', which is not a branch");
            }
            head = Files.exists(gitDir.resolve(ref), LinkOption.NOFOLLOW_LINKS) ? readRef(gitDir, ref)
                    : packedRef(gitDir, ref);
        }
        head = head.strip();
        if (!SHA.matcher(head).matches()) {
            throw new CageException("the copy's HEAD is not a commit id: " + head.lines().findFirst().orElse(""));
        }
        if (!git.runAllowingFailure("--git-dir=" + REVIEW, "cat-file", "-e", head + "^{commit}").succeeded()) {
            throw new CageException("the copy's HEAD " + head + " is not a commit in its object store");
        }
        return head;
    }

    private static String packedRef(Path gitDir, String ref) {
        return readRef(gitDir, "packed-refs").lines()
                .filter(line -> line.endsWith(" " + ref))
                .map(line -> line.substring(0, line.indexOf(' ')))
                .findFirst()
                .orElseThrow(() -> new CageException("the copy's HEAD names " + ref + ", which does not exist"));
    }

    private static String readRef(Path gitDir, String relative) {
        Path file = gitDir.resolve(relative);
        try {
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!attributes.isRegularFile() || attributes.size() > MAX_REF_BYTES
                    || !file.toRealPath().startsWith(gitDir.toRealPath())) {
                throw new CageException("the copy's " + relative + " is not a plain file inside its .git");
            }
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CageException("cannot read the copy's " + relative + ": " + e.getMessage());
        }
    }
}
