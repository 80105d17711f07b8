package dev.claudecage.claudecode;

import dev.claudecage.config.MountSpec;
import dev.claudecage.host.Host;
import dev.claudecage.host.HostIds;
import dev.claudecage.host.InvokingUser;
import dev.claudecage.oci.Spec;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What of the user's ~/.claude is carried into the cage, and how its place in a persisted home is made. */
class UserClaudeSetupTest {

    /** The user's ids: a person's made up when the test runs as root, else the test's own. */
    private static final HostIds USER = Host.effectiveUid() == 0 ? new HostIds(4242, 4242)
            : new HostIds(Host.effectiveUid(), Host.effectiveGid());

    @TempDir
    Path dir;

    private Path home;
    private final List<String> warnings = new ArrayList<>();

    @BeforeEach
    void makeHome() throws Exception {
        home = Files.createDirectories(dir.resolve("home/alice"));
    }

    private InvokingUser user() {
        return new InvokingUser(home, USER);
    }

    private Path mine(Path path) throws Exception {
        if (Host.effectiveUid() == 0) {
            try (Stream<Path> all = Files.walk(path)) {
                for (Path each : all.toList()) {
                    Files.setAttribute(each, "unix:uid", USER.uid(), LinkOption.NOFOLLOW_LINKS);
                    Files.setAttribute(each, "unix:gid", USER.gid(), LinkOption.NOFOLLOW_LINKS);
                }
            }
        }
        return path;
    }

    private void fullSetup() throws Exception {
        Path claude = Files.createDirectories(home.resolve(".claude"));
        Files.writeString(claude.resolve("settings.json"), "{\"model\":\"opus\"}");
        Files.writeString(claude.resolve("CLAUDE.md"), "# mine\n");
        Files.createDirectories(claude.resolve("agents"));
        Files.createDirectories(claude.resolve("commands"));
        Files.createDirectories(claude.resolve("skills/review"));
        Files.writeString(claude.resolve(".credentials.json"), "{\"claudeAiOauth\":{}}");
        Files.writeString(claude.resolve("history.jsonl"), "{}");
        Files.createDirectories(claude.resolve("projects"));
        mine(home);
    }

    private List<MountSpec> find(List<MountSpec> configured) {
        return UserClaudeSetup.find(user(), configured, warnings::add);
    }

    @Test
    void carriesTheFiveItemsReadOnlyAndNeverTheLoginOrTheHistory() throws Exception {
        fullSetup();
        Path claude = home.resolve(".claude").toRealPath();
        assertEquals(List.of(
                new MountSpec(claude.resolve("settings.json"), "/home/claude/.claude/settings.json", true),
                new MountSpec(claude.resolve("CLAUDE.md"), "/home/claude/.claude/CLAUDE.md", true),
                new MountSpec(claude.resolve("agents"), "/home/claude/.claude/agents", true),
                new MountSpec(claude.resolve("commands"), "/home/claude/.claude/commands", true),
                new MountSpec(claude.resolve("skills"), "/home/claude/.claude/skills", true)), find(List.of()));
        assertEquals(List.of(), warnings);
    }

    @Test
    void carriesWhatThereIsAndNothingWithoutAClaudeFolder() throws Exception {
        assertEquals(List.of(), find(List.of()));
        Files.createDirectories(home.resolve(".claude"));
        Files.writeString(home.resolve(".claude/CLAUDE.md"), "x");
        mine(home);
        assertEquals(List.of("/home/claude/.claude/CLAUDE.md"), find(List.of()).stream().map(MountSpec::target).toList());
    }

    @Test
    void followsALinkToAFileOfTheUsersInsideTheirHome() throws Exception {
        Path dotfiles = Files.createDirectories(home.resolve("dotfiles/claude"));
        Files.writeString(dotfiles.resolve("settings.json"), "{}");
        Files.createDirectories(dotfiles.resolve("agents"));
        Files.createDirectories(home.resolve(".claude"));
        Files.createSymbolicLink(home.resolve(".claude/settings.json"), Path.of("../dotfiles/claude/settings.json"));
        Files.createSymbolicLink(home.resolve(".claude/agents"), dotfiles.resolve("agents"));
        mine(home);
        assertEquals(List.of(new MountSpec(dotfiles.toRealPath().resolve("settings.json"), "/home/claude/.claude/settings.json", true),
                new MountSpec(dotfiles.toRealPath().resolve("agents"), "/home/claude/.claude/agents", true)), find(List.of()));
    }

    @Test
    void aLinkOutOfTheHomeIsRefusedThoughItWouldBeBoundAsRoot() throws Exception {
        Files.createDirectories(home.resolve(".claude"));
        Files.createSymbolicLink(home.resolve(".claude/agents"), Path.of("/etc"));
        Path elsewhere = Files.createDirectories(dir.resolve("home/bob/.ssh"));
        Files.createSymbolicLink(home.resolve(".claude/skills"), elsewhere);
        Files.createSymbolicLink(home.resolve(".claude/CLAUDE.md"), home.resolve("gone.md"));
        mine(home);
        assertEquals(List.of(), find(List.of()));
        assertEquals(3, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains("CLAUDE.md is not carried: it is a link to nothing"), warnings.get(0));
        assertTrue(warnings.get(1).contains("agents is not carried: it leads to /etc, outside your home"), warnings.get(1));
        assertTrue(warnings.get(2).contains("skills is not carried: it leads to " + elsewhere.toRealPath()), warnings.get(2));
    }

    @Test
    void aFileOfAnotherUserInTheHomeIsRefused() throws Exception {
        fullSetup();
        if (Host.effectiveUid() == 0) {
            // Someone else's file in the user's home, linked from ~/.claude (root's, say, left by sudo).
            Path roots = Files.writeString(home.resolve("roots-notes.md"), "secret");
            Files.delete(home.resolve(".claude/CLAUDE.md"));
            Files.createSymbolicLink(home.resolve(".claude/CLAUDE.md"), roots);
            assertFalse(find(List.of()).stream().anyMatch(mount -> mount.target().endsWith("CLAUDE.md")));
            assertTrue(warnings.stream().anyMatch(warning -> warning.contains("belongs to uid 0, not to you (uid 4242)")),
                    warnings.toString());
        }
        Files.delete(home.resolve(".claude/settings.json"));
        Files.createDirectories(home.resolve(".claude/settings.json"));
        mine(home.resolve(".claude/settings.json"));
        assertFalse(find(List.of()).stream().anyMatch(mount -> mount.target().endsWith("settings.json")));
        assertTrue(warnings.stream().anyMatch(warning -> warning.contains("settings.json is not carried: it is not a "
                + "regular file")), warnings.toString());
    }

    @Test
    void rootWithoutSudoCarriesNothing() throws Exception {
        fullSetup();
        assertEquals(List.of(), UserClaudeSetup.find(new InvokingUser(home, new HostIds(0, 0)), List.of(), warnings::add));
    }

    @Test
    void aMountOverTheCagesHomeOrClaudeFolderKeepsTheSetupOut() throws Exception {
        fullSetup();
        for (String target : List.of("/home/claude", "/home/claude/.claude", "/home/claude/.claude/agents")) {
            warnings.clear();
            assertEquals(List.of(), find(List.of(new MountSpec(dir, target, false))), target);
            assertTrue(warnings.get(0).contains("already puts something at " + target), warnings.toString());
        }
        assertEquals(5, find(List.of(new MountSpec(dir, "/workspace", false))).size());
    }

    private List<MountSpec> carried() throws Exception {
        fullSetup();
        return find(List.of());
    }

    @Test
    void thePlacesInAPersistedHomeAreMadeAsTheHomesOwner() throws Exception {
        Path sessionHome = mine(Files.createDirectories(dir.resolve("session-home")));
        List<MountSpec> mounts = carried();
        assertEquals(mounts, UserClaudeSetup.withMountPoints(sessionHome, mounts, warnings::add));
        assertEquals(List.of(), warnings);
        for (String name : List.of(".claude", ".claude/agents", ".claude/commands", ".claude/skills")) {
            assertTrue(Files.isDirectory(sessionHome.resolve(name), LinkOption.NOFOLLOW_LINKS), name);
        }
        for (String name : List.of(".claude/settings.json", ".claude/CLAUDE.md")) {
            assertTrue(Files.isRegularFile(sessionHome.resolve(name), LinkOption.NOFOLLOW_LINKS), name);
            assertEquals(0L, Files.size(sessionHome.resolve(name)));
        }
        assertEquals(USER.uid(), Files.getAttribute(sessionHome.resolve(".claude/settings.json"), "unix:uid",
                LinkOption.NOFOLLOW_LINKS));
        // A second start finds them in place.
        assertEquals(mounts, UserClaudeSetup.withMountPoints(sessionHome, mounts, warnings::add));
        assertEquals(List.of(), warnings);
    }

    /** The cage writes its persisted home: a link it left where a mount point goes is never followed by the host. */
    @Test
    void aLinkTheCageLeftInItsHomeKeepsThatItemOutAndNothingIsMadeThroughIt() throws Exception {
        Path sessionHome = mine(Files.createDirectories(dir.resolve("session-home")));
        Path target = Files.createDirectories(dir.resolve("hosts-folder"));
        Files.createDirectories(sessionHome.resolve(".claude"));
        Files.createSymbolicLink(sessionHome.resolve(".claude/agents"), target);
        Files.createSymbolicLink(sessionHome.resolve(".claude/settings.json"), target.resolve("settings.json"));
        Files.writeString(sessionHome.resolve(".claude/skills"), "a file where a folder goes");
        List<MountSpec> mounts = carried();
        List<MountSpec> kept = UserClaudeSetup.withMountPoints(sessionHome, mounts, warnings::add);
        assertEquals(List.of("/home/claude/.claude/CLAUDE.md", "/home/claude/.claude/commands"),
                kept.stream().map(MountSpec::target).toList());
        assertEquals(3, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains("~/.claude/settings.json in the session's home") && warnings.get(0)
                .contains("is a symlink, not a regular file"), warnings.get(0));
        try (Stream<Path> made = Files.list(target)) {
            assertEquals(List.of(), made.toList(), "the host made something through the cage's link");
        }
    }

    @Test
    void aLinkInPlaceOfTheClaudeFolderKeepsEverythingOut() throws Exception {
        Path sessionHome = mine(Files.createDirectories(dir.resolve("session-home")));
        Path target = Files.createDirectories(dir.resolve("hosts-folder"));
        Files.createSymbolicLink(sessionHome.resolve(".claude"), target);
        assertEquals(List.of(), UserClaudeSetup.withMountPoints(sessionHome, carried(), warnings::add));
        assertTrue(warnings.get(0).contains("so nothing of your ~/.claude is carried"), warnings.toString());
        try (Stream<Path> made = Files.list(target)) {
            assertEquals(List.of(), made.toList(), "the host made something through the cage's link");
        }
    }

    private static Spec withMounts(List<Spec.Mount> mounts) {
        Spec.Process process = new Spec.Process(true, new Spec.User(1000, 1000, List.of()), List.of("claude"), List.of(),
                "/workspace", null, List.of(), true, null, null);
        return new Spec(Spec.OCI_VERSION, process, new Spec.Root("rootfs", true), "h", mounts, null);
    }

    @Test
    void aTmpfsHomeGetsAClaudeFolderOfItsOwnOnlyWhenSomethingIsBoundThere() {
        Spec.Mount home = new Spec.Mount("/home/claude", "tmpfs", "tmpfs",
                List.of("nosuid", "nodev", "mode=700", "uid=1000", "gid=1000", "size=1024"));
        Spec.Mount agents = new Spec.Mount("/home/claude/.claude/agents", "bind", "/home/alice/.claude/agents",
                List.of("bind", "ro"));
        Spec.Mount tmp = new Spec.Mount("/tmp", "tmpfs", "tmpfs", List.of());
        Spec without = withMounts(List.of(tmp, home));
        assertEquals(without, UserClaudeSetup.withClaudeFolder(without, home));
        Spec with = withMounts(List.of(tmp, home, agents));
        assertEquals(List.of(tmp, home, new Spec.Mount("/home/claude/.claude", "tmpfs", "tmpfs", home.options()), agents),
                UserClaudeSetup.withClaudeFolder(with, home).mounts());
    }
}
