package dev.claudecage.config;

import dev.claudecage.UserInputException;
import dev.claudecage.host.HostIds;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The mounts and mount_owner keys as the loader checks them on real files: the host's system and
 * sockets refused whatever their owner (issue 14, point 9), and root's or a system account's paths
 * never written as (attack 4). /tmp stands for a folder of root's that is no system folder: it is
 * root's on every host, whoever runs the tests.
 */
class MountChecksTest {

    @TempDir
    Path dir;

    private ConfigFixture fixture;
    private Path project;

    @BeforeEach
    void setUp() {
        fixture = new ConfigFixture(dir);
        project = fixture.directory("project");
    }

    private CageConfig load(ConfigFixture fixture, String... mounts) {
        return fixture.loader().load(Map.of("mounts", List.of(mounts))).config();
    }

    private String error(ConfigFixture fixture, Map<String, Object> flags) {
        return assertThrows(UserInputException.class, () -> fixture.loader().load(flags)).getMessage();
    }

    private String mountError(ConfigFixture fixture, String mount) {
        return error(fixture, Map.of("mounts", List.of(mount)));
    }

    @Test
    void attack4EtcIsRefusedWithTheReason() {
        String message = mountError(fixture, "/etc:/workspace");

        assertTrue(message.startsWith("mounts: '/etc:/workspace' has host path '/etc', which is /etc, the host's "
                + "configuration (from flag --mount); mount a folder of your own work; claude-cage never mounts the "
                + "host's system folders"), message);
    }

    @Test
    void attack4ALinkToEtcIsResolvedAndRefused() throws Exception {
        Path link = Files.createSymbolicLink(dir.resolve("innocent"), Path.of("/etc"));

        String message = mountError(fixture, link + ":/workspace");

        assertTrue(message.contains("which is /etc, the host's configuration (it resolves to /etc)"), message);
    }

    @Test
    void attack4TheRootAndFoldersHoldingClaudeCagesStateAreRefused() {
        Path state = fixture.directory("var/lib/claude-cage");
        ConfigFixture withState = fixture.stateFolders(state);

        assertTrue(mountError(withState, "/:/host").contains("which holds /etc, the host's configuration"));
        assertTrue(mountError(withState, dir.resolve("var") + ":/v:ro").contains("which holds " + state
                + ", claude-cage's own state"));
        assertTrue(mountError(withState, state.resolve("..") + ":/v:ro").contains("claude-cage's own state"));
        assertEquals(List.of(new MountSpec(project, "/workspace", false)),
                load(withState, project + ":/workspace").mounts(), "a positive control");
    }

    @Test
    void point9ASocketIsRefusedWithTheRiskNotAMoveMountErrno() throws Exception {
        Path socket = dir.resolve("docker.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));

            String message = mountError(fixture, socket + ":/var/run/docker.sock");

            assertTrue(message.startsWith("mounts: '" + socket + ":/var/run/docker.sock' has host path '" + socket
                    + "', which is a Unix socket: the cage would get whatever service listens on it, with that "
                    + "service's rights and outside the cage (Docker's socket is root on the host) (from flag --mount); "
                    + "mount folders and regular files only"), message);
        }
    }

    @Test
    void point9ANamedPipeIsRefusedAndARegularFileIsMounted() throws Exception {
        Path fifo = dir.resolve("pipe");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        Path file = Files.writeString(dir.resolve("notes.txt"), "notes\n");

        assertTrue(mountError(fixture, fifo + ":/pipe").contains("which is a named pipe"));
        assertEquals(List.of(new MountSpec(file.toRealPath(), "/notes.txt", false)),
                load(fixture, file + ":/notes.txt").mounts());
    }

    @Test
    void attack4AWritableFolderOfRootsIsRefusedWhenNobodyRanSudo() {
        String message = mountError(fixture.sudoUser(Optional.empty()), "/tmp:/workspace");

        assertTrue(message.startsWith("mounts: '/tmp:/workspace' is writable, and it belongs to 0:0, root: the cage "
                + "would write in it as root"), message);
        assertTrue(message.contains("(from flag --mount); mount it read-only (:ro), chown it to the person whose work "
                + "it is, or name the host user the cage works as in your mounts with --mount-owner UID[:GID]"), message);
    }

    @Test
    void attack4SudoRunByRootIsNoPerson() {
        String message = mountError(fixture.sudoUser(Optional.of(new HostIds(0, 0))), project + ":/workspace");

        assertTrue(message.contains("is writable, and sudo was run by 0:0 (SUDO_UID:SUDO_GID), root"), message);
    }

    @Test
    void attack4ASystemAccountIsNeverGuessed() {
        String message = mountError(fixture.sudoUser(Optional.of(new HostIds(999, 999))), project + ":/workspace");

        assertTrue(message.contains("is writable, and sudo was run by 999:999 (SUDO_UID:SUDO_GID), a system account"),
                message);
    }

    @Test
    void attack4ReadOnlyRootsFolderIsMountedNamedOwnersAreTakenAndRootlessNeedsNoOwner() {
        ConfigFixture noSudo = fixture.sudoUser(Optional.empty());
        assertEquals(List.of(new MountSpec(Path.of("/tmp"), "/data", true)), load(noSudo, "/tmp:/data:ro").mounts());

        // /var/tmp, not /tmp: the fixture's own configuration file is under /tmp, and no cage may write that.
        CageConfig named = noSudo.loader().load(Map.of("mounts", List.of("/var/tmp:/workspace"), "mount_owner", "4242"))
                .config();
        assertEquals(new HostIds(4242, 4242), named.mountOwner());
        assertEquals(List.of(new MountSpec(Path.of("/var/tmp"), "/workspace", false)), named.mounts());

        assertEquals(List.of(new MountSpec(Path.of("/var/tmp"), "/workspace", false)),
                load(fixture.rootless(), "/var/tmp:/workspace").mounts());
    }

    @Test
    void attack4MountOwnerIsNeverRoot() {
        String root = error(fixture, Map.of("mount_owner", "0"));
        String rootsGroup = error(fixture, Map.of("mount_owner", "1000:0"));

        assertTrue(root.startsWith("mount_owner: '0' is root; what the cage writes never belongs to root, where a setuid "
                + "program it left would be root's (from flag --mount-owner)"), root);
        assertTrue(rootsGroup.startsWith("mount_owner: '1000:0' has group 0, root's group"), rootsGroup);
        assertTrue(error(fixture, Map.of("mount_owner", "alice")).contains("is not UID or UID:GID"));
    }

    @Test
    void mountOwnerIsEmptyByDefaultTakesAGroupAndIsRefusedRootless() {
        assertNull(fixture.load().config().mountOwner());
        assertEquals(new HostIds(1001, 100),
                fixture.loader().load(Map.of("mount_owner", "1001:100")).config().mountOwner());

        String rootless = error(fixture.rootless(), Map.of("mount_owner", "1001"));
        assertTrue(rootless.startsWith("mount_owner: '1001' applies only when claude-cage runs as root; a rootless cage "
                + "works in your mounts as you (from flag --mount-owner); leave it empty"), rootless);
    }
}
