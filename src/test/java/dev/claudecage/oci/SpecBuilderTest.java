package dev.claudecage.oci;

import dev.claudecage.config.CageConfig;
import dev.claudecage.config.ClaudeConfig;
import dev.claudecage.config.EgressSettings;
import dev.claudecage.config.Mode;
import dev.claudecage.config.MountSpec;
import dev.claudecage.config.NetworkMode;
import dev.claudecage.config.ProtectedPath;
import dev.claudecage.config.UsernsPool;
import dev.claudecage.json.Json;
import dev.claudecage.security.SeccompPolicy;
import dev.claudecage.host.IdBlock;
import dev.claudecage.testing.Golden;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

public class SpecBuilderTest {

    private static final long GIB = 1L << 30;

    public static CageConfig config(List<MountSpec> mounts) {
        return config(mounts, null);
    }

    static CageConfig config(List<MountSpec> mounts, String workdir) {
        return new CageConfig(Mode.CLI, true, 5, 2, 4 * GIB, NetworkMode.NONE, "1.1.1.1",
                List.of("api.anthropic.com"), true, "default", 1024, 1000, 1000, "cli", "runc",
                Path.of("/var/cache/claude-cage/rootfs/bookworm-minbase"), mounts, null, GIB, List.of("EDITOR=vi"),
                new EgressSettings(Map.of(), GIB, 64, URI.create("https://api.anthropic.com"),
                        "10.213.0.0/16", "fd63:6167:6500::/48"), List.of(),
                ProtectedPath.DEFAULTS.stream().map(ProtectedPath::parse).toList(), false, Map.of(), true, workdir, ClaudeConfig.INHERIT,
                UsernsPool.ACCOUNT);
    }

    public static CageRequest request() {
        return new CageRequest(List.of("claude", "--version"), false, "run-0123456789ab", "claude-cage",
                SeccompPolicy.defaultPolicy().toOci("amd64"), null, NetworkAttachment.none());
    }

    private static final List<MountSpec> WORKSPACE_AND_DOCS = List.of(
            new MountSpec(Path.of("/home/user/project"), "/workspace", false),
            new MountSpec(Path.of("/home/user/docs"), "/docs", true));

    @Test
    void defaultSpecMatchesTheGoldenFile() throws Exception {
        Spec spec = SpecBuilder.build(config(WORKSPACE_AND_DOCS), request());
        String json = Json.write(spec);
        Golden.assertMatches(Path.of("oci/golden/config-default.json"), json);
        assertEquals(json, Json.writePlainRecord(spec), "config.json is written without the mapper, the same bytes");
        assertEquals(json, Json.write(Json.read(json, Spec.class)), "the golden file parses back to the same spec");
    }

    /**
     * A cage with host ids of its own: a user namespace of its own, which maps its ids 0 to 65535 onto
     * its block, so that its uid 1000 is nobody's on the host; its own ids stay those of the image
     * (the process's user and the home's tmpfs are 1000:1000 in the namespace).
     */
    @Test
    void aCageWithItsOwnIdsHasAUserNamespaceMappedOntoItsBlock() throws Exception {
        CageRequest base = request();
        CageRequest ownIds = new CageRequest(base.command(), false, base.containerId(), base.hostname(), base.seccomp(),
                null, NetworkAttachment.none(), CageRequest.ImageDefaults.NONE, WorkspaceWall.NONE,
                new IdBlock(1_879_048_192L, 1_879_113_728L));
        Spec spec = SpecBuilder.build(config(WORKSPACE_AND_DOCS), ownIds);
        String json = Json.write(spec);
        Golden.assertMatches(Path.of("oci/golden/config-own-ids.json"), json);
        assertEquals(json, Json.writePlainRecord(spec), "config.json is written without the mapper, the same bytes");
        assertEquals(json, Json.write(Json.read(json, Spec.class)), "the golden file parses back to the same spec");
        assertTrue(spec.linux().ownsNamespace("user"));
        assertEquals(List.of(new Spec.IdMapping(0, 1_879_048_192L, 65536)), spec.linux().uidMappings());
        assertEquals(List.of(new Spec.IdMapping(0, 1_879_113_728L, 65536)), spec.linux().gidMappings());
        assertEquals(new Spec.User(1000, 1000, List.of()), spec.process().user());
        assertTrue(spec.mounts().stream().filter(mount -> mount.destination().equals(SpecBuilder.CAGE_HOME)).findFirst()
                .orElseThrow().options().containsAll(List.of("uid=1000", "gid=1000")), "the home's tmpfs is the cage user's");
        Spec shared = SpecBuilder.build(config(WORKSPACE_AND_DOCS), base);
        assertTrue(!shared.linux().ownsNamespace("user"));
        assertEquals(null, shared.linux().uidMappings());
    }

    @Test
    void everyCapabilitySetIsEmptyAndNoNewPrivilegesIsSet() {
        Spec.Process process = SpecBuilder.build(config(List.of()), request()).process();
        assertEquals(Spec.Capabilities.none(), process.capabilities());
        assertTrue(process.noNewPrivileges());
        assertEquals(1000, process.user().uid());
    }

    @Test
    void rootIsReadOnlyUnlessTheConfigSaysOtherwise() {
        assertTrue(SpecBuilder.build(config(List.of()), request()).root().readonly());
    }

    @Test
    void userMountsAreTheOnlyBindMountsAndNeverCarrySetuidOrDevices() {
        List<Spec.Mount> binds = SpecBuilder.build(config(WORKSPACE_AND_DOCS), request()).mounts().stream()
                .filter(mount -> mount.type().equals("bind")).toList();
        assertEquals(List.of("/workspace", "/docs"), binds.stream().map(Spec.Mount::destination).toList());
        binds.forEach(mount -> assertTrue(mount.options().containsAll(List.of("nosuid", "nodev")), mount.toString()));
        assertTrue(binds.get(0).options().contains("rw"));
        assertTrue(binds.get(1).options().contains("ro"));
    }

    @Test
    void workingDirectoryIsTheWorkspaceWhenOneIsMountedElseHome() {
        assertEquals("/workspace", SpecBuilder.build(config(WORKSPACE_AND_DOCS), request()).process().cwd());
        assertEquals("/home/claude", SpecBuilder.build(config(List.of()), request()).process().cwd());
    }

    @Test
    void aConfiguredWorkdirWinsOverTheWorkspaceAndTheImage() {
        CageRequest fromImage = new CageRequest(List.of("sh"), false, "run-0123456789ab", "claude-cage",
                SeccompPolicy.defaultPolicy().toOci("amd64"), null, NetworkAttachment.none(),
                new CageRequest.ImageDefaults(List.of(), "/srv", List.of(), null), WorkspaceWall.NONE);
        assertEquals("/workspace/src", SpecBuilder.build(config(WORKSPACE_AND_DOCS, "/workspace/src"), fromImage)
                .process().cwd());
        assertEquals("/opt", SpecBuilder.build(config(List.of(), "/opt"), request()).process().cwd());
    }

    @Test
    void workspaceGuardsFollowTheirMountOutermostFirst() {
        CageRequest base = request();
        Path project = Path.of("/home/user/project");
        WorkspaceWall wall = new WorkspaceWall(List.of(
                new WorkspaceWall.Guard("/workspace", ".git", project.resolve(".git"), false),
                new WorkspaceWall.Guard("/workspace", ".git/config", project.resolve(".git/config"), true)));
        CageRequest guarded = new CageRequest(base.command(), false, base.containerId(), base.hostname(), base.seccomp(),
                null, NetworkAttachment.none(), CageRequest.ImageDefaults.NONE, wall);

        List<Spec.Mount> mounts = SpecBuilder.build(config(WORKSPACE_AND_DOCS), guarded).mounts();

        List<String> destinations = mounts.stream().map(Spec.Mount::destination).toList();
        int workspace = destinations.indexOf("/workspace");
        assertEquals(List.of("/workspace", "/workspace/.git", "/workspace/.git/config", "/docs"),
                destinations.subList(workspace, workspace + 4));
        assertEquals(new Spec.Mount("/workspace/.git", "bind", "/home/user/project/.git",
                List.of("bind", "rprivate", "nosuid", "nodev", "rw")), mounts.get(workspace + 1));
        assertEquals(new Spec.Mount("/workspace/.git/config", "bind", "/home/user/project/.git/config",
                List.of("bind", "rprivate", "nosuid", "nodev", "ro")), mounts.get(workspace + 2));
    }

    @Test
    void theImagesEnvAndWorkdirFeedTheProcessButTheHomeStaysTheCages() {
        CageRequest base = request();
        CageRequest fromImage = new CageRequest(base.command(), false, base.containerId(), base.hostname(), base.seccomp(),
                null, NetworkAttachment.none(), new CageRequest.ImageDefaults(
                        List.of("PATH=/opt/tools/bin:/usr/bin", "HOME=/root", "DISABLE_AUTOUPDATER=1"), "/srv", List.of(), null),
                WorkspaceWall.NONE);
        Spec.Process process = SpecBuilder.build(config(List.of()), fromImage).process();
        assertEquals(List.of("PATH=/opt/tools/bin:/usr/bin", "HOME=/home/claude", "LANG=C.UTF-8", "container=claude-cage",
                "DISABLE_AUTOUPDATER=1", "EDITOR=vi"), process.env());
        assertEquals("/srv", process.cwd());
        assertEquals("/workspace", SpecBuilder.build(config(WORKSPACE_AND_DOCS), fromImage).process().cwd(),
                "a mounted workspace wins over the image's WORKDIR");
    }

    @Test
    void eachImageVolumeGetsATmpfsOfItsOwnUnlessAMountCoversIt() {
        CageRequest base = request();
        CageRequest withVolumes = new CageRequest(base.command(), false, base.containerId(), base.hostname(), base.seccomp(),
                null, NetworkAttachment.none(), new CageRequest.ImageDefaults(List.of(), null,
                        List.of("/data", "var/lib/db/", "/workspace/cache", "/docs", "/tmp/x", "/proc/sys", "/", "/data"), null),
                WorkspaceWall.NONE);
        List<Spec.Mount> mounts = SpecBuilder.build(config(WORKSPACE_AND_DOCS), withVolumes).mounts();
        List<Spec.Mount> volumes = mounts.stream().filter(mount -> List.of("/data", "/var/lib/db")
                .contains(mount.destination())).toList();
        assertEquals(List.of(new Spec.Mount("/data", "tmpfs", "tmpfs", List.of("nosuid", "nodev", "mode=755", "uid=1000",
                        "gid=1000", "size=" + GIB)), new Spec.Mount("/var/lib/db", "tmpfs", "tmpfs", List.of("nosuid", "nodev",
                        "mode=755", "uid=1000", "gid=1000", "size=" + GIB))), volumes,
                "one each, the cage user's; the workspace, /docs, /tmp, /proc and / are mounted already");
        List<String> destinations = mounts.stream().map(Spec.Mount::destination).toList();
        assertTrue(destinations.indexOf("/data") < destinations.indexOf("/workspace"), "before the user's mounts");
        assertEquals(destinations.size(), new java.util.HashSet<>(destinations).size(), "no path is mounted twice");
    }

    @Test
    void resourcesFollowTheConfigWithNoSwap() {
        Spec.Resources resources = SpecBuilder.build(config(List.of()), request()).linux().resources();
        assertEquals(4 * GIB, resources.memory().limit());
        assertEquals(resources.memory().limit(), resources.memory().swap(), "memory+swap equal to memory: no swap");
        assertEquals(200_000, resources.cpu().quota());
        assertEquals(1024, resources.pids().limit());
    }

    @Test
    void everyNamespaceButUserIsNew() {
        List<String> types = SpecBuilder.build(config(List.of()), request()).linux().namespaces().stream()
                .map(Spec.Namespace::type).toList();
        assertEquals(List.of("pid", "ipc", "uts", "mount", "network", "cgroup"), types);
    }

    @Test
    void appArmorProfileIsNamedOnlyWhenTheHostHasOne() {
        assertNull(SpecBuilder.build(config(List.of()), request()).process().apparmorProfile());
        CageRequest confined = new CageRequest(List.of("true"), false, "run-0123456789ab", "claude-cage",
                request().seccomp(), "claude-cage", NetworkAttachment.none());
        assertEquals("claude-cage", SpecBuilder.build(config(List.of()), confined).process().apparmorProfile());
    }

    @Test
    void terminalGetsTermSetAndPipesDoNot() {
        assertFalse(SpecBuilder.build(config(List.of()), request()).process().env().stream()
                .anyMatch(entry -> entry.startsWith("TERM=")));
        CageRequest tty = new CageRequest(List.of("bash"), true, "run-0123456789ab", "claude-cage", request().seccomp(), null,
                NetworkAttachment.none());
        assertTrue(SpecBuilder.build(config(List.of()), tty).process().env().contains("TERM=xterm-256color"));
    }

    private static CageRequest withNetwork(NetworkAttachment network) {
        CageRequest base = request();
        return new CageRequest(base.command(), false, base.containerId(), base.hostname(), base.seccomp(), null, network);
    }

    @Test
    void filteredCagesJoinTheirPreparedNamespaceWithTheProxyVariablesLast() {
        NetworkAttachment filtered = new NetworkAttachment(NetworkMode.FILTERED, "/run/netns/claude-cage-x",
                List.of("HTTPS_PROXY=http://10.213.0.1:3128"), Path.of("/run/claude-cage/net/x/resolv.conf"));
        Spec spec = SpecBuilder.build(config(List.of()), withNetwork(filtered));
        assertTrue(spec.linux().namespaces().contains(new Spec.Namespace("network", "/run/netns/claude-cage-x")));
        List<String> env = spec.process().env();
        assertEquals("HTTPS_PROXY=http://10.213.0.1:3128", env.get(env.size() - 1), "network variables come last");
        assertTrue(spec.mounts().stream().anyMatch(mount -> mount.destination().equals("/etc/resolv.conf")
                && mount.source().equals("/run/claude-cage/net/x/resolv.conf") && mount.options().contains("ro")));
    }

    @Test
    void hostNetworkSharesTheHostNamespaceAndResolver() {
        Spec spec = SpecBuilder.build(config(List.of()), withNetwork(NetworkAttachment.host()));
        assertFalse(spec.linux().namespaces().stream().anyMatch(namespace -> namespace.type().equals("network")));
        assertTrue(spec.mounts().stream().anyMatch(mount -> mount.destination().equals("/etc/resolv.conf")));
    }

    @Test
    void noneGetsAFreshEmptyNamespaceAndKeepsTheImagesResolver() {
        Spec spec = SpecBuilder.build(config(List.of()), request());
        assertTrue(spec.linux().namespaces().contains(Spec.Namespace.fresh("network")));
        assertFalse(spec.mounts().stream().anyMatch(mount -> mount.destination().equals("/etc/resolv.conf")));
    }
}
