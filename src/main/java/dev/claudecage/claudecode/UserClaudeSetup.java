package dev.claudecage.claudecode;

import dev.claudecage.config.CageConfig;
import dev.claudecage.config.ClaudeConfig;
import dev.claudecage.config.MountSpec;
import dev.claudecage.host.InvokingUser;
import dev.claudecage.host.UntrustedDirectory;
import dev.claudecage.oci.Spec;
import dev.claudecage.oci.SpecBuilder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The user's own Claude Code setup in the cage ({@code claude_config: inherit}): {@code settings.json},
 * {@code CLAUDE.md}, {@code agents/}, {@code commands/} and {@code skills/} of the invoking user's
 * {@code ~/.claude} (the sudo user's under sudo), each bound read-only at its place in the cage's
 * {@code ~/.claude}, beside the cage's own writable state there. Nothing else of ~/.claude is carried:
 * never the login ({@code .credentials.json}), the history, the projects or the todos.
 * <p>
 * The items become read-only mounts of the cage, so they take the mounts' path: shifted to the
 * cage's user as the invoking user where the ids differ, listed in the session's policy. Where
 * each comes from is decided on the host, as root, in the user's home, which a cage may have
 * mounted writable; so a link there is followed only to a folder or file of the user's own inside
 * their home (a dotfiles checkout), never elsewhere (/etc, /root, another user's home); the rest
 * is refused with a warning. As root without sudo nothing is carried: root's home is never mounted.
 * <p>
 * The mount points lie in the cage's home. A persisted home is a folder the cage writes, so they
 * are made there by the host, without following any link the cage left ({@link UntrustedDirectory});
 * an item whose place the cage has taken with a link or a file of another kind is not carried. A
 * tmpfs home gets a tmpfs of the cage user's own at {@code ~/.claude} to hold them.
 */
public final class UserClaudeSetup {

    static final String FOLDER = ".claude";
    static final String CAGE_FOLDER = SpecBuilder.CAGE_HOME + "/" + FOLDER;
    private static final int PRIVATE_FOLDER = 0700;
    private static final int PRIVATE_FILE = 0600;

    /** One thing carried from ~/.claude: its name there, and whether it is a folder. */
    record Item(String name, boolean folder) {
        String cagePath() {
            return CAGE_FOLDER + "/" + name;
        }
    }

    static final List<Item> ITEMS = List.of(new Item("settings.json", false), new Item("CLAUDE.md", false),
            new Item("agents", true), new Item("commands", true), new Item("skills", true));

    private UserClaudeSetup() {
    }

    /**
     * {@code config} with the invoking user's setup added as read-only mounts, for a cage whose home is
     * {@code persistedHome} (null for a tmpfs home). {@code warn} takes each item left out, and why.
     */
    public static CageConfig addTo(CageConfig config, Path persistedHome, Consumer<String> warn) {
        if (config.claudeConfig() == ClaudeConfig.NONE) {
            return config;
        }
        List<MountSpec> found = find(InvokingUser.current(), config.mounts(), warn);
        if (found.isEmpty()) {
            return config;
        }
        List<MountSpec> carried = persistedHome == null ? found : withMountPoints(persistedHome, found, warn);
        List<MountSpec> mounts = new ArrayList<>(config.mounts());
        mounts.addAll(carried);
        return config.withMounts(mounts);
    }

    /** The items of {@code user}'s ~/.claude that may be carried, as read-only mounts; what is refused, to {@code warn}. */
    static List<MountSpec> find(InvokingUser user, List<MountSpec> configured, Consumer<String> warn) {
        Path claude = user.home().resolve(FOLDER);
        if (user.ids().uid() == 0 || !Files.exists(claude, LinkOption.NOFOLLOW_LINKS)) {
            return List.of();
        }
        Optional<MountSpec> covering = configured.stream().filter(mount -> overlaps(mount.target(), CAGE_FOLDER)).findFirst();
        if (covering.isPresent()) {
            warn.accept("claude_config: your " + claude + " is not carried: the mount " + covering.get().format()
                    + " already puts something at " + covering.get().target());
            return List.of();
        }
        Path home;
        try {
            home = user.home().toRealPath();
        } catch (IOException e) {
            warn.accept("claude_config: your " + claude + " is not carried: cannot resolve your home " + user.home()
                    + " (" + e.getMessage() + ")");
            return List.of();
        }
        if (home.getNameCount() == 0) {
            return List.of();
        }
        List<MountSpec> mounts = new ArrayList<>();
        for (Item item : ITEMS) {
            Path path = claude.resolve(item.name());
            if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            String problem = problem(path, item, home, user.ids().uid());
            if (problem != null) {
                warn.accept("claude_config: " + path + " is not carried: " + problem);
                continue;
            }
            try {
                mounts.add(new MountSpec(path.toRealPath(), item.cagePath(), true));
            } catch (IOException e) {
                warn.accept("claude_config: " + path + " is not carried: " + e.getMessage());
            }
        }
        return mounts;
    }

    /** Why {@code path} is not carried, or null when it is: where it leads, what it is, whose it is. */
    private static String problem(Path path, Item item, Path home, int uid) {
        Path real;
        try {
            real = path.toRealPath();
        } catch (NoSuchFileException e) {
            return "it is a link to nothing";
        } catch (IOException e) {
            return "cannot resolve it (" + e.getMessage() + ")";
        }
        if (!real.startsWith(home) || real.equals(home)) {
            return "it leads to " + real + ", outside your home " + home + "; only a link to a file or folder of yours "
                    + "inside your home is followed";
        }
        try {
            boolean folder = Files.isDirectory(real, LinkOption.NOFOLLOW_LINKS);
            if (folder != item.folder() || (!folder && !Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS))) {
                return "it is not a " + (item.folder() ? "folder" : "regular file");
            }
            int owner = (Integer) Files.getAttribute(real, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            if (owner != uid) {
                return (real.equals(path) ? "it" : real.toString()) + " belongs to uid " + owner + ", not to you (uid "
                        + uid + ")";
            }
        } catch (IOException e) {
            return "cannot look at it (" + e.getMessage() + ")";
        }
        return null;
    }

    /** Whether one of the two cage paths is the other or lies beneath it. */
    private static boolean overlaps(String a, String b) {
        return a.equals(b) || a.startsWith(b + "/") || b.startsWith(a + "/");
    }

    /**
     * The mounts whose mount points could be made in the persisted home {@code homeDir}, which the cage
     * writes: ~/.claude and each item's place, made by the host as the home's owner, no link followed.
     * A place the cage has filled with something else (a link, a file where a folder goes) keeps its item out.
     */
    static List<MountSpec> withMountPoints(Path homeDir, List<MountSpec> mounts, Consumer<String> warn) {
        List<MountSpec> kept = new ArrayList<>();
        try (UntrustedDirectory home = UntrustedDirectory.open(homeDir)) {
            UntrustedDirectory.Entry owner = home.stat();
            if (!madeOrThere(home, FOLDER, true, owner, warn)) {
                return List.of();
            }
            for (MountSpec mount : mounts) {
                String name = mount.target().substring(CAGE_FOLDER.length() + 1);
                boolean folder = ITEMS.stream().filter(item -> item.name().equals(name)).findFirst().orElseThrow().folder();
                if (madeOrThere(home, FOLDER + "/" + name, folder, owner, warn)) {
                    kept.add(mount);
                }
            }
        } catch (IOException e) {
            warn.accept("claude_config: your ~/.claude is not carried: cannot prepare its place in the session's home "
                    + homeDir + " (" + e.getMessage() + ")");
            return List.of();
        }
        return kept;
    }

    /** Makes {@code relative} as a folder or an empty file unless it is there as one already; false when it cannot be. */
    private static boolean madeOrThere(UntrustedDirectory home, String relative, boolean folder,
                                       UntrustedDirectory.Entry owner, Consumer<String> warn) throws IOException {
        Optional<UntrustedDirectory.Entry> entry = home.stat(relative);
        UntrustedDirectory.Entry.Kind wanted = folder ? UntrustedDirectory.Entry.Kind.DIRECTORY
                : UntrustedDirectory.Entry.Kind.FILE;
        if (entry.isPresent()) {
            if (entry.get().kind() == wanted) {
                return true;
            }
            warn.accept("claude_config: ~/" + relative + " in the session's home " + home.path() + " is a "
                    + entry.get().kind().name().toLowerCase(java.util.Locale.ROOT) + ", not a "
                    + (folder ? "folder" : "regular file") + ", so " + (relative.equals(FOLDER) ? "nothing of your "
                    + "~/.claude is" : "your " + relative.substring(FOLDER.length() + 1) + " is not")
                    + " carried; remove it from the session's home to carry it");
            return false;
        }
        if (folder) {
            home.createDirectory(relative, PRIVATE_FOLDER);
        } else {
            home.createFile(relative, new byte[0], PRIVATE_FILE);
        }
        home.chown(relative, owner.uid(), owner.gid());
        return true;
    }

    /**
     * A tmpfs home: a tmpfs of the cage user's own at ~/.claude, right after the home's, when the user's
     * setup is bound inside it; else the runtime would make ~/.claude root's, and Claude Code could not
     * write its state there.
     */
    static Spec withClaudeFolder(Spec spec, Spec.Mount home) {
        if (spec.mounts().stream().noneMatch(mount -> mount.destination().startsWith(CAGE_FOLDER + "/"))) {
            return spec;
        }
        List<Spec.Mount> mounts = new ArrayList<>();
        for (Spec.Mount mount : spec.mounts()) {
            mounts.add(mount);
            if (mount == home) {
                List<String> options = new ArrayList<>(home.options().stream()
                        .filter(option -> !option.equals("tmpcopyup")).toList());
                mounts.add(new Spec.Mount(CAGE_FOLDER, "tmpfs", "tmpfs", options));
            }
        }
        return spec.withMounts(mounts);
    }
}
