package dev.claudecage.claudecode;

import dev.claudecage.host.Host;
import dev.claudecage.net.gateway.PlaceholderKey;
import dev.claudecage.oci.Spec;
import dev.claudecage.oci.SpecBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The host writes Claude Code's first-run settings into a home the cage can write. Each hostile
 * home is checked against a host file that a followed link would reach, and the positive
 * controls show that the merge does write where nothing is in the way.
 */
class ClaudeCodeStartTest {

    private static final PlaceholderKey KEY = new PlaceholderKey("sk-ant-cage-" + "x".repeat(12) + "ABCDEFGHIJKLMNOPQRST");

    @TempDir
    Path dir;

    private final List<String> warnings = new ArrayList<>();

    private Path home() throws IOException {
        return Files.createDirectory(dir.resolve("home"));
    }

    private Spec spec(Spec.Mount home) {
        Spec.Process process = new Spec.Process(true, new Spec.User(4242, 4343, List.of()), List.of("claude"), List.of(),
                "/workspace", null, List.of(), true, null, null);
        return new Spec(Spec.OCI_VERSION, process, new Spec.Root("rootfs", true), "h",
                List.of(new Spec.Mount("/tmp", "tmpfs", "tmpfs", List.of("nosuid")), home,
                        new Spec.Mount("/workspace", "bind", "/w", List.of("bind"))), null);
    }

    private static Spec.Mount bindHome(Path home) {
        return new Spec.Mount(SpecBuilder.CAGE_HOME, "bind", home.toString(), List.of("bind", "rw"));
    }

    private String written(Path home) throws IOException {
        return Files.readString(home.resolve(".claude.json"));
    }

    @Test
    void aPersistedHomeGetsTheSettingsOwnedAsItsFolderAndPrivate() throws Exception {
        assumeTrue(Host.effectiveUid() == 0, "giving the file to the home's owner needs root");
        Path home = home();
        Files.setAttribute(home, "unix:uid", 4242);
        Files.setAttribute(home, "unix:gid", 4343);
        Spec spec = spec(bindHome(home));
        Spec adjusted = ClaudeCodeStart.prepare(spec, Optional.of(KEY), dir.resolve("net"), warnings::add);
        assertEquals(spec.mounts(), adjusted.mounts(), "a persisted home needs no change to the mounts");
        assertEquals(List.of(), warnings);
        String json = written(home);
        assertTrue(json.contains("\"hasCompletedOnboarding\" : true") && json.contains("ABCDEFGHIJKLMNOPQRST")
                && json.contains("\"/workspace\""), json);
        Path file = home.resolve(".claude.json");
        assertEquals(4242, Files.getAttribute(file, "unix:uid"));
        assertEquals(4343, Files.getAttribute(file, "unix:gid"));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertFalse(Files.exists(dir.resolve("net")), "no seed for a persisted home");
    }

    @Test
    void claudeCodesDirectCallsAreTurnedOffUnlessTheUserSaidOtherwise() {
        Spec spec = spec(bindHome(dir));
        Spec user = spec.withProcess(spec.process().withEnv(List.of("PATH=/bin", "DISABLE_TELEMETRY=0")));
        assertEquals(List.of("PATH=/bin", "DISABLE_TELEMETRY=0", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1"),
                ClaudeCodeStart.withoutDirectCalls(user).process().env());
        assertEquals(List.of("DISABLE_TELEMETRY=1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1"),
                ClaudeCodeStart.withoutDirectCalls(spec).process().env());
    }

    @Test
    void theUsersFileIsMergedNotReplaced() throws Exception {
        Path home = home();
        Files.writeString(home.resolve(".claude.json"), "{\"theme\": \"light\", \"hasCompletedOnboarding\": true}");
        ClaudeCodeStart.mergeInto(home, KEY, "/workspace", warnings::add);
        String json = written(home);
        assertTrue(json.startsWith("{\n  \"theme\" : \"light\""), json);
        assertTrue(json.contains("ABCDEFGHIJKLMNOPQRST"), json);
    }

    @Test
    void withoutAPlaceholderTheHomeIsNotTouched() throws Exception {
        Path home = home();
        Spec spec = spec(bindHome(home));
        assertSame(spec, ClaudeCodeStart.prepare(spec, Optional.empty(), dir.resolve("net"), warnings::add));
        assertFalse(Files.exists(home.resolve(".claude.json")));
    }

    @Test
    void aLinkTheCagePlantedAsTheFileIsNotFollowed() throws Exception {
        Path home = home();
        Path hostFile = Files.writeString(dir.resolve("host-file"), "{\"host\": true}");
        Files.createSymbolicLink(home.resolve(".claude.json"), hostFile);
        ClaudeCodeStart.mergeInto(home, KEY, "/workspace", warnings::add);
        assertEquals("{\"host\": true}", Files.readString(hostFile), "the host file was written through the link");
        assertTrue(Files.isSymbolicLink(home.resolve(".claude.json")), "the cage's link is left as it is");
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains("is left as it is"), warnings.toString());
    }

    @Test
    void aLinkedFolderOnTheWayIsNotFollowedEither() throws Exception {
        // The home's own path is the host's; below it, the cage makes what it likes.
        Path home = home();
        Path hostFolder = Files.createDirectory(dir.resolve("host-folder"));
        Files.createSymbolicLink(home.resolve(".claude"), hostFolder);
        ClaudeCodeStart.mergeInto(home, KEY, "/workspace", warnings::add);
        try (var listing = Files.list(hostFolder)) {
            assertEquals(0, listing.count(), "something was written into the host's folder");
        }
        assertTrue(Files.isRegularFile(home.resolve(".claude.json"), LinkOption.NOFOLLOW_LINKS),
                "positive control: the file itself is written beside the link");
    }

    @Test
    void aFifoAFolderOrAHugeFileIsLeftAloneWithoutHanging() throws Exception {
        Path home = home();
        Process mkfifo = new ProcessBuilder("mkfifo", home.resolve(".claude.json").toString()).start();
        assertEquals(0, mkfifo.waitFor());
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> ClaudeCodeStart.mergeInto(home, KEY, "/workspace", warnings::add));
        assertFalse(Files.isRegularFile(home.resolve(".claude.json")), "the FIFO was replaced");
        Files.delete(home.resolve(".claude.json"));

        Files.createDirectory(home.resolve(".claude.json"));
        ClaudeCodeStart.mergeInto(home, KEY, "/workspace", warnings::add);
        assertTrue(Files.isDirectory(home.resolve(".claude.json")));
        Files.delete(home.resolve(".claude.json"));

        byte[] huge = new byte[ClaudeCodeStart.READ_LIMIT + 1];
        java.util.Arrays.fill(huge, (byte) ' ');
        huge[0] = '{';
        huge[huge.length - 1] = '}';
        Files.write(home.resolve(".claude.json"), huge);
        ClaudeCodeStart.mergeInto(home, KEY, "/workspace", warnings::add);
        assertEquals(huge.length, Files.size(home.resolve(".claude.json")), "the huge file was rewritten");
        assertEquals(3, warnings.size(), warnings.toString());
    }

    @Test
    void aFileThatIsNotJsonIsKeptAndTheWarningQuotesNoneOfIt() throws Exception {
        Path home = home();
        String hostile = "{\"a\": \"\u001b]0;pwned\u0007";
        Files.writeString(home.resolve(".claude.json"), hostile);
        ClaudeCodeStart.mergeInto(home, KEY, "/workspace", warnings::add);
        assertEquals(hostile, written(home));
        assertEquals(1, warnings.size());
        assertFalse(warnings.get(0).contains("pwned") || warnings.get(0).contains("\u001b"), warnings.get(0));
    }

    @Test
    void aTmpfsHomeCopiesASeedBoundBelowIt() throws Exception {
        Spec.Mount tmpfs = new Spec.Mount(SpecBuilder.CAGE_HOME, "tmpfs", "tmpfs", List.of("nosuid", "mode=700"));
        Path network = Files.createDirectory(dir.resolve("net"));
        Spec adjusted = ClaudeCodeStart.prepare(spec(tmpfs), Optional.of(KEY), network, warnings::add);
        assertTrue(adjusted.process().env().contains("DISABLE_TELEMETRY=1"), adjusted.process().env().toString());
        Path seed = network.resolve("home-seed");
        assertEquals(List.of(
                new Spec.Mount("/tmp", "tmpfs", "tmpfs", List.of("nosuid")),
                new Spec.Mount(SpecBuilder.CAGE_HOME, "bind", seed.toString(),
                        List.of("bind", "ro", "nosuid", "nodev", "noexec", SpecBuilder.IDMAP)),
                new Spec.Mount(SpecBuilder.CAGE_HOME, "tmpfs", "tmpfs", List.of("nosuid", "mode=700", "tmpcopyup")),
                new Spec.Mount("/workspace", "bind", "/w", List.of("bind"))), adjusted.mounts());
        String json = Files.readString(seed.resolve(".claude.json"), StandardCharsets.UTF_8);
        assertTrue(json.contains("ABCDEFGHIJKLMNOPQRST"), json);
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(seed)),
                "runc gives the tmpfs the mode of what it copied");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(seed.resolve(".claude.json"))));
        int expectedOwner = Host.effectiveUid() == 0 ? 4242 : Host.effectiveUid();
        assertEquals(expectedOwner, Files.getAttribute(seed.resolve(".claude.json"), "unix:uid"),
                "the copy belongs to the cage's user");
    }
}
