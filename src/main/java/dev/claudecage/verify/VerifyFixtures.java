package dev.claudecage.verify;

import dev.claudecage.CageException;
import dev.claudecage.config.MountSpec;
import dev.claudecage.config.ProtectedPath;
import dev.claudecage.host.Directories;
import dev.claudecage.host.HostIds;
import dev.claudecage.net.cage.CageNetworking;
import dev.claudecage.net.cage.GatewayPorts;
import dev.claudecage.net.cage.HostListeners;
import dev.claudecage.oci.Spec;
import dev.claudecage.oci.SpecBuilder;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.process.CommandScope;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * What the probes need on the host: the probe script, a read-only mount, a workspace, a setuid-root helper,
 * a host file that must stay unreadable, a marker process the cage must not see, and the
 * loopback canary. All of it lives in one private folder and is removed by {@link #close()}.
 */
final class VerifyFixtures implements AutoCloseable {

    static final String PROBES_MOUNT = "/opt/claude-cage-verify";
    static final String SETUID_MOUNT = "/opt/claude-cage-verify-suid";
    static final String READ_ONLY_MOUNT = "/mnt/claude-cage-verify-ro";
    /** A writable workspace shaped like a git checkout: .git with config and hooks, nothing else the host runs. */
    static final String WORKSPACE_MOUNT = "/mnt/claude-cage-verify-workspace";
    private static final String HOST_CHECK_DONE = "host-check-done";

    private final Path directory;
    private final Canary canary;
    private final char[] realKey = (REAL_KEY_PREFIX + Long.toHexString(new SecureRandom().nextLong())
            + Long.toHexString(new SecureRandom().nextLong())).toCharArray();
    /** On the cage's gateway addresses: one on a port nothing opens, one per idle gateway port it could bind. */
    private final List<Canary> gatewayCanaries = new ArrayList<>();
    private final Process marker;
    private final String markerToken;

    private static final Duration SETUP_TIMEOUT = Duration.ofSeconds(30);

    private VerifyFixtures(Path directory, Canary canary, Process marker, String markerToken) {
        this.directory = directory;
        this.canary = canary;
        this.marker = marker;
        this.markerToken = markerToken;
    }

    /**
     * @param scope          where the setuid helper is made root's: on the host as root, in a rootless cage's
     *                       user namespace otherwise (its root, the first subordinate id, is the cage's root)
     * @param workspaceOwner who owns the fixture workspace, as a user's checkout would be owned
     */
    static VerifyFixtures create(Path parent, Path rootfs, CommandScope scope, HostIds workspaceOwner,
                                 ProcessRunner runner) {
        Path directory = parent.resolve("verify-" + Long.toHexString(new SecureRandom().nextLong() >>> 1));
        try {
            Directories.createPrivate(directory);
            Path probes = Files.createDirectories(directory.resolve("probes"));
            try (InputStream script = VerifyFixtures.class.getResourceAsStream("probes.pl")) {
                Files.copy(script, probes.resolve("probes.pl"));
            }
            // World-writable, so that only the read-only mount can stop the cage's user.
            Files.setPosixFilePermissions(Files.createDirectories(directory.resolve("read-only")),
                    PosixFilePermissions.fromString("rwxrwxrwx"));
            Path workspace = Files.createDirectories(directory.resolve("workspace"));
            Files.createDirectories(workspace.resolve(".git/hooks"));
            Files.writeString(workspace.resolve(".git/config"), "[core]\n\trepositoryformatversion = 0\n");
            for (Path path : List.of(workspace, workspace.resolve(".git"), workspace.resolve(".git/hooks"),
                    workspace.resolve(".git/config"))) {
                Files.setAttribute(path, "unix:uid", workspaceOwner.uid());
                Files.setAttribute(path, "unix:gid", workspaceOwner.gid());
            }
            Path secret = Files.createDirectories(directory.resolve("host-secret"));
            Files.writeString(secret.resolve("secret.txt"), "a host file the cage must not read\n");
            Path setuid = Files.createDirectories(directory.resolve("setuid"));
            // The image's own `id`, made setuid-root: it prints the euid a setuid program would get.
            Files.copy(rootfs.resolve("usr/bin/id"), setuid.resolve("id"), StandardCopyOption.COPY_ATTRIBUTES);
            runner.run(scope.wrap(List.of("chown", "0:0", setuid.resolve("id").toString())), SETUP_TIMEOUT);
            runner.run(scope.wrap(List.of("chmod", "4755", setuid.resolve("id").toString())), SETUP_TIMEOUT);
            // An argument no other process has, so the cage can look for it in /proc.
            String token = "987654." + (new SecureRandom().nextInt(900_000) + 100_000);
            Process marker = new ProcessBuilder("sleep", token).start();
            return new VerifyFixtures(directory, Canary.open(List.of("127.0.0.1", "::1"), List.of(0), List.of()), marker, token);
        } catch (IOException | RuntimeException e) {
            deleteQuietly(directory);
            throw new CageException("cannot set up the verify fixtures in " + directory + ": " + e.getMessage());
        }
    }

    /** The fixture workspace, mounted writable at {@link #WORKSPACE_MOUNT} like a user's checkout. */
    MountSpec workspaceMount() {
        return new MountSpec(directory.resolve("workspace"), WORKSPACE_MOUNT, false);
    }

    Path secretDirectory() {
        return directory.resolve("host-secret");
    }

    Canary canary() {
        return canary;
    }

    /** Where the API's hosts are pinned for the probe of the direct API route: the loopback canary, never the API. */
    static final String API_CANARY_ADDRESS = "127.0.0.1";

    /** The loopback canary's port, on which the API's hosts are allowed, so that an open route reaches it. */
    int apiCanaryPort() {
        return canary.port(API_CANARY_ADDRESS, "tcp");
    }

    /**
     * A stand-in for the user's API key, handed to the gateway: the probes look for its prefix
     * everywhere in the cage, and the placeholder the cage holds has another one.
     */
    static final String REAL_KEY_PREFIX = "sk-ant-api03-";

    Supplier<char[]> realKey() {
        return realKey::clone;
    }

    /** The hits of both canaries since the last call. */
    List<String> takeCanaryHits() {
        List<String> hits = new ArrayList<>(canary.takeHits());
        gatewayCanaries.forEach(gateway -> hits.addAll(gateway.takeHits()));
        return hits;
    }

    /**
     * What the probes are told about the cage they run in.
     *
     * @param gateway        the host side of a filtered cage's link, IPv4 then IPv6; empty unless filtered
     * @param readOnlyMount  a read-only mount to try writing into, or null
     * @param setuidProgram  a setuid-root program to run, or null
     * @param workspace      a writable workspace whose protected paths the probes may try, or null
     * @param idlePorts      the gateway's ports whose services do not run, where a canary listens
     * @param apiHosts       the API's hosts, pinned to the loopback canary ({@link #apiCanaryPort}), which the
     *                       probe of the direct API route tries; empty where that probe does not run
     */
    record ProbeTarget(List<String> gateway, String readOnlyMount, String setuidProgram, String workspace,
                       List<ProtectedPath> protectedPaths, long pidsLimit, long memoryBytes,
                       List<String> writableTargets, List<String> maskedPaths, List<String> readonlyPaths,
                       List<Integer> idlePorts, List<String> apiHosts) {
    }

    /** The fixture mounts and inputs added to a fresh cage's spec; {@code networking} is null unless filtered. */
    Spec addTo(Spec spec, CageNetworking networking, long pidsLimit, long memoryBytes, List<String> writableTargets,
               List<ProtectedPath> protectedPaths, List<String> apiHosts) {
        List<Spec.Mount> mounts = new ArrayList<>(spec.mounts());
        mounts.add(new Spec.Mount(PROBES_MOUNT, "bind", directory.resolve("probes").toString(),
                List.of("bind", "ro", "nosuid", "nodev")));
        // Deliberately without nosuid: the probe checks that no_new_privs alone stops setuid. Idmapped, so that
        // in a cage with ids of its own the helper is its root's (the kernel ignores a setuid bit of nobody's).
        mounts.add(new Spec.Mount(SETUID_MOUNT, "bind", directory.resolve("setuid").toString(),
                List.of("bind", "ro", "nodev", SpecBuilder.IDMAP)));
        mounts.add(new Spec.Mount(READ_ONLY_MOUNT, "bind", directory.resolve("read-only").toString(),
                List.of("bind", "ro", "nosuid", "nodev")));
        // A rootless filtered cage has no link, so no gateway address to probe.
        List<String> gateway = networking == null || !networking.hasLink() ? List.of()
                : List.of(networking.link().gateway4(), networking.link().gateway6());
        List<Integer> idle = gateway.isEmpty() ? List.of() : GatewayPorts.STANDARD.idleTcpPorts(networking.services());
        List<String> env = new ArrayList<>(spec.process().env());
        env.addAll(environment(new ProbeTarget(gateway, READ_ONLY_MOUNT, SETUID_MOUNT + "/id", WORKSPACE_MOUNT,
                protectedPaths, pidsLimit, memoryBytes, writableTargets, spec.linux().maskedPaths(),
                spec.linux().readonlyPaths(), idle, networking == null ? List.of() : apiHosts)));
        env.add("CAGE_VERIFY_HOST_DONE=" + PROBES_MOUNT + "/" + HOST_CHECK_DONE);
        return spec.withMounts(mounts).withProcess(spec.process().withEnv(env));
    }

    /**
     * The probes' inputs, as environment variables. For a filtered cage this also opens the
     * gateway canary, on the cage's gateway addresses, on a port the firewall does not open and on
     * the ports of the gateway services that do not run.
     */
    List<String> environment(ProbeTarget target) {
        closeGatewayCanaries();
        List<String> env = new ArrayList<>();
        if (!target.gateway().isEmpty()) {
            Canary gatewayCanary = Canary.open(target.gateway(), List.of(0), List.of());
            gatewayCanaries.add(gatewayCanary);
            for (int idle : target.idlePorts()) {
                try {
                    gatewayCanaries.add(Canary.open(target.gateway(), List.of(idle), List.of()));
                } catch (UncheckedIOException taken) {
                    // A program of the host's listens there already, on every address: just what the wall keeps
                    // the cage from. The probe's own connection tells whether it could reach it. Any other
                    // failure would leave the port without a listener, and the control unable to show the hole.
                    if (!HostListeners.portsOnAllAddresses().contains(idle)) {
                        throw new CageException("verify cannot listen on the gateway's idle port " + idle + " at "
                                + target.gateway() + " (" + taken.getCause().getMessage() + "), where the probe "
                                + "gateway-idle-ports-closed and its control connect",
                                "see what holds it: ss -ltnp 'sport = :" + idle + "'", taken);
                    }
                }
            }
            String gateway4 = target.gateway().get(0);
            String gateway6 = target.gateway().get(1);
            env.add("CAGE_VERIFY_GATEWAY4=" + gateway4 + ":" + gatewayCanary.port(gateway4, "tcp"));
            env.add("CAGE_VERIFY_GATEWAY6=" + gateway6 + ":" + gatewayCanary.port(gateway6, "tcp"));
            env.add("CAGE_VERIFY_IDLE_PORTS=" + String.join(",", target.gateway().stream()
                    .flatMap(address -> target.idlePorts().stream().map(port -> address + ":" + port)).toList()));
            env.add("CAGE_VERIFY_LINKS=eth0,lo");
        } else {
            env.add("CAGE_VERIFY_LINKS=lo");
        }
        if (!target.apiHosts().isEmpty()) {
            env.add("CAGE_VERIFY_API_HOSTS=" + String.join(",", target.apiHosts()));
            env.add("CAGE_VERIFY_API_PORT=" + apiCanaryPort());
        }
        if (target.readOnlyMount() != null) {
            env.add("CAGE_VERIFY_RO_MOUNT=" + target.readOnlyMount());
        }
        if (target.setuidProgram() != null) {
            env.add("CAGE_VERIFY_SETUID=" + target.setuidProgram());
        }
        env.addAll(List.of(
                "CAGE_VERIFY_KEY_PREFIX_REVERSED=" + new StringBuilder(REAL_KEY_PREFIX).reverse(),
                "CAGE_VERIFY_HOST_SECRET=" + secretDirectory().resolve("secret.txt"),
                "CAGE_VERIFY_WRITABLE=" + String.join(",", target.writableTargets()),
                "CAGE_VERIFY_MASKED=" + String.join(",", target.maskedPaths()),
                "CAGE_VERIFY_READONLY=" + String.join(",", target.readonlyPaths()),
                "CAGE_VERIFY_PIDS_LIMIT=" + target.pidsLimit(),
                "CAGE_VERIFY_MEMORY_BYTES=" + target.memoryBytes(),
                "CAGE_VERIFY_CANARY_PORT4=" + canary.port("127.0.0.1", "tcp"),
                "CAGE_VERIFY_CANARY_PORT6=" + canary.port("::1", "tcp"),
                "CAGE_VERIFY_HOST_HOSTNAME=" + hostHostname(),
                "CAGE_VERIFY_MARKER=" + markerToken));
        if (target.workspace() != null) {
            env.add("CAGE_VERIFY_WORKSPACE=" + target.workspace());
            // The files in .git that the list implies are attacked as well.
            env.add("CAGE_VERIFY_PROTECTED=" + String.join(",",
                    ProtectedPath.withImplied(target.protectedPaths()).stream().map(ProtectedPath::format).toList()));
        }
        return env;
    }

    /** Where the host says it has checked the cage from outside (the identity probes wait for it). */
    private Path hostCheckDone() {
        return directory.resolve("probes").resolve(HOST_CHECK_DONE);
    }

    /** Before a cage starts: the host has not checked it yet. */
    void hostCheckPending() {
        try {
            Files.deleteIfExists(hostCheckDone());
        } catch (IOException e) {
            throw new CageException("cannot reset " + hostCheckDone() + ": " + e.getMessage());
        }
    }

    /** The host has checked the running cage from outside: its probes that wait for that may finish. */
    void hostCheckDoneNow() {
        try {
            Files.writeString(hostCheckDone(), "done\n");
        } catch (IOException e) {
            throw new CageException("cannot write " + hostCheckDone() + ": " + e.getMessage());
        }
    }

    /** The probe script itself, for a cage that cannot be given the probes mount (a running session). */
    byte[] script() {
        try {
            return Files.readAllBytes(directory.resolve("probes").resolve("probes.pl"));
        } catch (IOException e) {
            throw new CageException("cannot read the probe script: " + e.getMessage());
        }
    }

    static List<String> probeCommand(List<Probe> probes) {
        List<String> command = new ArrayList<>(List.of("perl", PROBES_MOUNT + "/probes.pl"));
        probes.forEach(probe -> command.add(probe.id()));
        return command;
    }

    private static String hostHostname() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        } catch (IOException e) {
            throw new CageException("cannot read the host's hostname: " + e.getMessage());
        }
    }

    @Override
    public void close() {
        marker.destroyForcibly();
        canary.close();
        closeGatewayCanaries();
        deleteQuietly(directory);
    }

    private void closeGatewayCanaries() {
        gatewayCanaries.forEach(Canary::close);
        gatewayCanaries.clear();
    }

    private static void deleteQuietly(Path root) {
        try {
            Directories.deleteRecursively(root);
        } catch (IOException e) {
            System.err.println("claude-cage: could not remove " + root + ": " + e.getMessage());
        }
    }
}
