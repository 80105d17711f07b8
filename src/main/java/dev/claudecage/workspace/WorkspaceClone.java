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
import dev.claudecage.host.UntrustedDirectory;
import dev.claudecage.host.UntrustedText;
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
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * {@code start --clone}: the agent works on a private copy of the repository, made by the
 * launcher outside the repository and the cage ({@code CLONE_ROOT/workspace}, owned by the
 * repository's owner; see {@code SessionRoots.cloneDir}), and the original stays out of the cage. {@code diff} and {@code apply} read the copy
 * without trusting it: its config, hooks, attributes and the rest of its .git were in the agent's
 * hands (the wall keeps .git/config and .git/hooks, but .git/commondir or info/ would do), so no
 * git command ever runs with the copy as its repository. Its HEAD is read as plain text here.
 * Its objects are read once, through {@code review.git}, whose alternates name the copy's and the
 * original's object folders, and fetched into {@code checked.git}, whose alternates name only the
 * original's: git recomputes each object's id from its bytes and checks it (fsck) on the way, so
 * everything diff shows and apply brings over is what the commit ids name, out of the agent's
 * reach. git trusts a loose object's bytes when it reads one, so the copy could otherwise show diff
 * one file and hand apply another under the same id.
 */
public final class WorkspaceClone {

    static final String COPY = "workspace";
    static final String REVIEW = "review.git";
    static final String CHECKED = "checked.git";
    static final String RECORD = "clone.json";
    private static final Pattern SHA = Pattern.compile("[0-9a-f]{40}");
    private static final Pattern BRANCH_REF = Pattern.compile("refs/heads/[A-Za-z0-9._/-]+");
    private static final int MAX_REF_BYTES = 64 * 1024;
    /** A clone of a repository with many tags and branches has them all in packed-refs. */
    private static final int MAX_PACKED_REFS_BYTES = 16 * 1024 * 1024;
    /** Paths a refusal lists; the agent could otherwise fill the terminal. */
    private static final int MAX_LISTED = 20;

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
            // checked.git fetches the copy's HEAD by its id, which no ref of review.git names.
            inClone.run("--git-dir=" + REVIEW, "config", "uploadpack.allowAnySHA1InWant", "true");
            // Relative to review.git/objects; the copy's first, then the original's, both only read.
            writeAlternates(cloneRoot.resolve(REVIEW), "../../" + COPY + "/.git/objects\n" + objects + "\n", owner.uid());
            inClone.run("init", "--quiet", "--bare", CHECKED);
            writeAlternates(cloneRoot.resolve(CHECKED), objects + "\n", owner.uid());
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

    private static void writeAlternates(Path bareRepository, String folders, int uid) throws IOException {
        Path alternates = bareRepository.resolve("objects/info/alternates");
        Files.writeString(alternates, folders);
        Files.setAttribute(alternates, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
    }

    /** The copy of a session started with --clone. */
    public static WorkspaceClone open(String session, Path dataDir, ProcessRunner runner) {
        try {
            Origin origin = Json.read(Files.readString(dataDir.resolve(RECORD)), Origin.class);
            return new WorkspaceClone(Path.of(origin.cloneRoot()), origin, runner);
        } catch (NoSuchFileException e) {
            throw new UserInputException("session '" + session + "' works on its mounts directly, not on a copy",
                    "diff, apply, checkpoint and rollback are for sessions started with --clone");
        } catch (IOException | RuntimeException e) {
            throw new CageException("cannot read " + dataDir.resolve(RECORD) + ": " + e.getMessage());
        }
    }

    /** The copy of the session whose data folder is {@code dataDir}, when it was started with --clone. */
    public static Optional<WorkspaceClone> find(String session, Path dataDir, ProcessRunner runner) {
        return Files.exists(dataDir.resolve(RECORD)) ? Optional.of(open(session, dataDir, runner)) : Optional.empty();
    }

    /** The checkpoints of the copy's work tree. */
    public Checkpoints checkpoints() {
        return new Checkpoints(root, git);
    }

    public Path original() {
        return Path.of(origin.original());
    }

    /**
     * The agent's commits and its uncommitted changes, against the original's current commit, as
     * git prints them: the copy's bytes, for the caller to escape before a terminal sees them.
     */
    public String diff(boolean statOnly) {
        String head = copyHead();
        takeCommits(head);
        String tip = originalTip();
        StringBuilder out = new StringBuilder();
        String log = checked("log", "--format=%h %s", tip + ".." + head);
        out.append(log.isEmpty() ? "# no commits beyond " + shortName() + "\n"
                : "# commits beyond " + shortName() + ":\n" + log.lines().map(line -> "#   " + line + "\n")
                .reduce("", String::concat));
        if (!log.isEmpty()) {
            out.append(checked("diff", statOnly ? "--stat" : "--patch", tip + "..." + head));
        }
        String uncommitted = uncommitted(head, statOnly);
        out.append(uncommitted.isEmpty() ? "# no uncommitted changes in the copy\n"
                : "# uncommitted changes in the copy (apply leaves these out):\n" + uncommitted);
        return out.toString();
    }

    /** Whether the session whose data folder is {@code dataDir} works on a copy (was started with --clone). */
    public static boolean isClone(Path dataDir) {
        return Files.exists(dataDir.resolve(RECORD), LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * The agent's commits beyond the one the copy was made from, newest first, at most {@code most}, each as
     * "ID SUBJECT": taken into checked.git first (see the class comment), so each id names what git checked.
     * The subject is the copy's bytes, for the caller to escape.
     */
    public List<String> commitsSinceCopy(int most) {
        String head = copyHead();
        if (head.equals(origin.base())) {
            return List.of();
        }
        takeCommits(head);
        return checked("log", "--format=%H %s", "-n", Integer.toString(most), origin.base() + ".." + head).lines().toList();
    }

    /** What {@link #apply} did: the commits it brought over, and whether changes were left behind. */
    public record Applied(String branch, String from, String to, int commits, boolean uncommittedLeft) {
    }

    /**
     * Fast-forwards the original's current branch to the copy's HEAD. Refuses a dirty or detached
     * original, a branch that went its own way, and commits that change what the host would run or
     * trust ({@link IncomingChanges}: links, submodules, protected paths and odd names).
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
            throw new UserInputException("the original " + original() + " has uncommitted changes:\n"
                    + UntrustedText.escape(dirty),
                    "commit or stash them, then apply again");
        }
        String tip = originalTip();
        if (tip.equals(head)) {
            return new Applied(branch.stdout().strip(), tip, head, 0, !uncommitted(head, true).isEmpty());
        }
        takeCommits(head);
        if (!git.runAllowingFailure("--git-dir=" + CHECKED, "merge-base", "--is-ancestor", tip, head).succeeded()) {
            throw new UserInputException("the branch " + branch.stdout().strip() + " in " + original()
                    + " has commits the session's copy does not, so its commits cannot be fast-forwarded onto it",
                    "see them with: claude-cage diff " + session + "; then bring them over by hand (git am, "
                            + "cherry-pick) or reset the branch to " + tip.substring(0, 12) + " first");
        }
        List<IncomingChanges.Refusal> refused = IncomingChanges.refusals(IncomingChanges.parse(
                checked("log", "--raw", "-z", "--no-renames", "-m", "--format=", tip + ".." + head)), protectedPaths);
        if (!refused.isEmpty()) {
            throw new UserInputException("the session's commits change paths that apply does not bring over, as the "
                    + "host would run or trust them:\n"
                    + refused.stream().limit(MAX_LISTED).map(refusal -> "  " + refusal.line()).collect(Collectors.joining("\n"))
                    + (refused.size() > MAX_LISTED ? "\n  ... and " + (refused.size() - MAX_LISTED) + " more" : ""),
                    "see the changes with: claude-cage diff " + session + "; apply takes whole commits, so have the "
                            + "agent leave these paths out of its commits, or save the patch (claude-cage diff "
                            + session + " --unescaped > work.patch), edit it and git apply it in " + original()
                            + "; make the refused changes yourself if you want them");
        }
        int commits = Integer.parseInt(checked("rev-list", "--count", tip + ".." + head).strip());
        String ref = "refs/claude-cage/apply-" + session;
        git.run("--git-dir=" + CHECKED, "push", "--quiet", original().toString(), head + ":" + ref);
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

    /**
     * Takes the commits up to {@code head} from the copy into checked.git (see the class comment),
     * or says why git refused them.
     */
    private void takeCommits(String head) {
        CommandResult fetch = git.runAllowingFailure("--git-dir=" + CHECKED, "-c", "transfer.fsckObjects=true", "fetch",
                "--quiet", "--no-tags", "--no-auto-gc", root.resolve(REVIEW).toString(),
                "+" + head + ":refs/claude-cage/head");
        if (!fetch.succeeded()) {
            throw new CageException("git refuses the objects of the copy's commits up to " + head + ": "
                    + UntrustedText.escape(fetch.stderr().strip()), "the copy holds objects git itself does not accept "
                    + "(a path such as .git, a malformed tree) or that are not what their ids say, so neither diff nor "
                    + "apply uses them; have the agent make its commits again, or destroy the session");
        }
        if (!git.runAllowingFailure("--git-dir=" + CHECKED, "cat-file", "-e", head + "^{commit}").succeeded()) {
            throw new CageException("the copy's HEAD " + head + " is not a commit");
        }
    }

    private String checked(String... args) {
        String[] withDir = new String[args.length + 1];
        withDir[0] = "--git-dir=" + CHECKED;
        System.arraycopy(args, 0, withDir, 1, args.length);
        return git.run(withDir).stdout();
    }

    /**
     * The copy's work tree against its HEAD (taken into checked.git), through a throwaway index of
     * checked.git.
     */
    private String uncommitted(String head, boolean statOnly) {
        // Absolute: git reads it from the top of the work tree.
        Path indexFile = root.resolve(CHECKED).resolve("claude-cage-uncommitted.index");
        Map<String, String> index = Map.of("GIT_INDEX_FILE", indexFile.toString());
        try {
            git.runWith(index, "--git-dir=" + CHECKED, "--work-tree=" + COPY, "read-tree", head);
            git.runWith(index, "--git-dir=" + CHECKED, "--work-tree=" + COPY, "add", "--all");
            return git.runWith(index, "--git-dir=" + CHECKED, "--work-tree=" + COPY, "diff", "--cached",
                    statOnly ? "--stat" : "--patch", head).stdout();
        } finally {
            try {
                Files.deleteIfExists(indexFile);
            } catch (IOException e) {
                System.err.println("claude-cage: could not remove the review index: " + e.getMessage());
            }
        }
    }

    /**
     * The copy's HEAD commit id, read as text through {@link UntrustedDirectory} (no link followed
     * anywhere on the way, regular files only, bounded): the agent may have put anything there.
     * Whether it names a commit, {@link #takeCommits} finds out.
     */
    String copyHead() {
        try (UntrustedDirectory copy = UntrustedDirectory.open(root.resolve(COPY))) {
            String head = readGitFile(copy, "HEAD", MAX_REF_BYTES)
                    .orElseThrow(() -> new NoSuchFileException(copy.path().resolve(".git/HEAD").toString()));
            if (head.startsWith("ref: ")) {
                String ref = head.substring(5).strip();
                if (!BRANCH_REF.matcher(ref).matches() || ref.contains("..") || ref.contains("//")) {
                    throw new CageException("the copy's HEAD names '" + UntrustedText.escape(ref) + "', which is not a branch");
                }
                Optional<String> loose = readGitFile(copy, ref, MAX_REF_BYTES);
                head = loose.isPresent() ? loose.get() : packedRef(copy, ref);
            }
            head = head.strip();
            if (!SHA.matcher(head).matches()) {
                throw new CageException("the copy's HEAD is not a commit id: "
                        + UntrustedText.escape(head.split("\n", 2)[0]));
            }
            return head;
        } catch (IOException e) {
            throw new CageException("cannot read the copy's HEAD as plain files inside its .git: "
                    + UntrustedText.escape(e.getMessage()));
        }
    }

    private static String packedRef(UntrustedDirectory copy, String ref) throws IOException {
        return readGitFile(copy, "packed-refs", MAX_PACKED_REFS_BYTES).orElse("").lines()
                .filter(line -> line.endsWith(" " + ref))
                .map(line -> line.substring(0, line.indexOf(' ')))
                .findFirst()
                .orElseThrow(() -> new CageException("the copy's HEAD names " + ref + ", which does not exist"));
    }

    /** The copy's file .git/RELATIVE, or empty when there is none. */
    private static Optional<String> readGitFile(UntrustedDirectory copy, String relative, int limit) throws IOException {
        try {
            return Optional.of(new String(copy.readFile(".git/" + relative, limit), StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }
}
