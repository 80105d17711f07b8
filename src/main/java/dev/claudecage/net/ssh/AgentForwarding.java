package dev.claudecage.net.ssh;

import dev.claudecage.CageException;
import dev.claudecage.UserInputException;
import dev.claudecage.config.CredentialSettings;
import dev.claudecage.host.Directories;
import dev.claudecage.host.HostIds;
import dev.claudecage.net.AuditEvent;
import dev.claudecage.net.EgressPolicy;
import dev.claudecage.oci.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.function.Consumer;

/**
 * Everything --ssh-agent gives a cage: a folder of its own, bound read-only at {@link #CAGE_DIR},
 * that only root and the cage's user's group may pass, holding the relay's socket (owned by the
 * cage's user, 0600, so no other host user borrows the agent through it), the known_hosts lines of ssh_agent_hosts for the cage's ssh to check servers
 * with, and a helper that takes ssh through the egress proxy with CONNECT (ssh ignores
 * HTTPS_PROXY); and the environment that points ssh and git there. Checked before anything starts:
 * an agent to forward, hosts to sign for, each allowed by the policy and with a key on record.
 */
public final class AgentForwarding implements AutoCloseable {

    /** Where the folder appears in the cage. */
    public static final String CAGE_DIR = "/run/claude-cage-ssh";

    private final Path dir;
    private final AgentRelay relay;

    private AgentForwarding(Path dir, AgentRelay relay) {
        this.dir = dir;
        this.relay = relay;
    }

    /**
     * @param dir          a folder to create for the socket and files (inside the cage's private network folder)
     * @param cageUser     the host ids the cage's user is (root mode: its own ids, or its uid where it shares the
     *                     host's; rootless: the invoking user)
     * @param proxyAddress the cage's proxy (its gateway address, or its loopback where a rootless cage's relay
     *                     listens) for the CONNECT helper
     */
    public static AgentForwarding start(CredentialSettings credentials, EgressPolicy policy, Path dir, HostIds cageUser,
                                        String proxyAddress, int proxyPort, Consumer<AuditEvent> audit) {
        String hostAgent = System.getenv("SSH_AUTH_SOCK");
        if (hostAgent == null || hostAgent.isBlank() || !Files.exists(Path.of(hostAgent))) {
            throw new UserInputException("--ssh-agent forwards the host's SSH agent, but SSH_AUTH_SOCK "
                    + (hostAgent == null || hostAgent.isBlank() ? "is not set" : "names no socket (" + hostAgent + ")")
                    + "; start an agent (eval $(ssh-agent); ssh-add), keep it under sudo (sudo --preserve-env="
                    + "SSH_AUTH_SOCK), or leave --ssh-agent off");
        }
        if (credentials.sshAgentHosts().isEmpty()) {
            throw new UserInputException("--ssh-agent without ssh_agent_hosts would refuse every signature; "
                    + "name the hosts the agent may sign for with --ssh-agent-host HOST");
        }
        KnownHosts knownHosts;
        try {
            knownHosts = KnownHosts.read(credentials.sshKnownHosts(), credentials.sshAgentHosts());
        } catch (IOException e) {
            throw new CageException("cannot read the known_hosts files for the SSH agent relay: " + e.getMessage());
        }
        for (String host : credentials.sshAgentHosts()) {
            if (!policy.allowsName(host)) {
                throw new UserInputException("ssh_agent_hosts names " + host + ", which allowed_hosts does not allow; "
                        + "add it with its SSH port, e.g. --allowed-host " + host + ":22");
            }
            if (!knownHosts.keyCounts().containsKey(host)) {
                throw new UserInputException("ssh_agent_hosts names " + host + ", which has no key in "
                        + credentials.sshKnownHosts() + "; connect to it once on the host (ssh " + host
                        + ") or give a known_hosts file that has it with --ssh-known-hosts");
            }
        }
        try {
            Files.createDirectory(dir);
            Directories.writePrivateFile(dir.resolve("known_hosts"), knownHosts.asKnownHostsFile());
            Directories.writePrivateFile(dir.resolve("proxy-connect"), proxyConnectScript(proxyAddress, proxyPort));
            for (String file : List.of("known_hosts", "proxy-connect")) {
                Files.setPosixFilePermissions(dir.resolve(file), PosixFilePermissions.fromString("rw-r--r--"));
            }
            Files.setAttribute(dir, "unix:gid", cageUser.gid());
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx--x---"));
        } catch (IOException e) {
            throw new CageException("cannot prepare the SSH agent relay's folder " + dir + ": " + e.getMessage());
        }
        Path socket = dir.resolve("agent.sock");
        AgentRelay relay = AgentRelay.start(socket, Path.of(hostAgent), knownHosts, audit);
        try {
            Files.setAttribute(socket, "unix:uid", cageUser.uid());
            Files.setAttribute(socket, "unix:gid", cageUser.gid());
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException e) {
            relay.close();
            throw new CageException("cannot hand the SSH agent socket " + socket + " to the cage's user: " + e.getMessage());
        }
        return new AgentForwarding(dir, relay);
    }

    /** The folder, read-only in the cage. */
    public Spec.Mount bind() {
        return new Spec.Mount(CAGE_DIR, "bind", dir.toString(), List.of("bind", "ro", "nosuid", "nodev", "noexec"));
    }

    /** SSH_AUTH_SOCK, and GIT_SSH_COMMAND with the proxy helper and the listed hosts' keys. */
    public List<String> environment() {
        return List.of("SSH_AUTH_SOCK=" + CAGE_DIR + "/agent.sock",
                "GIT_SSH_COMMAND=ssh -o 'ProxyCommand=bash " + CAGE_DIR + "/proxy-connect %h %p' "
                        + "-o GlobalKnownHostsFile=" + CAGE_DIR + "/known_hosts");
    }

    @Override
    public void close() {
        relay.close();
    }

    /**
     * A ProxyCommand for ssh in the cage: an HTTP CONNECT through the cage's proxy, in plain bash
     * (every image has it). bash reads the proxy's answer a byte at a time from the socket, so no
     * byte of the server's banner is swallowed with it. ssh ends the command with SIGHUP, or by
     * closing its input; either way the script ends both copies.
     */
    static String proxyConnectScript(String proxyAddress, int proxyPort) {
        return "# ssh -o 'ProxyCommand=bash " + CAGE_DIR + "/proxy-connect %h %p' HOST: ssh through the cage's\n"
                + "# egress proxy (HTTP CONNECT). The proxy allows only what allowed_hosts lists, e.g. HOST:22.\n"
                + "exec 3<>/dev/tcp/" + proxyAddress + "/" + proxyPort + " || exit 1\n"
                + "printf 'CONNECT %s:%s HTTP/1.1\\r\\nHost: %s:%s\\r\\n\\r\\n' \"$1\" \"$2\" \"$1\" \"$2\" >&3\n"
                + "IFS= read -r status <&3\n"
                + "case $status in\n"
                + "  'HTTP/1.'?' 200'*) ;;\n"
                + "  *) echo \"claude-cage proxy: ${status%$'\\r'}\" >&2; exit 1 ;;\n"
                + "esac\n"
                + "while IFS= read -r line <&3 && [ -n \"${line%$'\\r'}\" ]; do :; done\n"
                // One copy each way. The one from the server must end with this script: left behind, it
                // would hold the connection, and the stderr of whatever started ssh, open for good.
                + "cat <&3 &\n"
                + "reader=$!\n"
                // Only the reader writes to ssh: its end is ssh's end-of-connection.
                + "exec 1>&-\n"
                + "trap 'kill \"$reader\" 2>/dev/null' EXIT\n"
                + "trap 'exit 0' HUP TERM\n"
                + "cat >&3\n";
    }
}
