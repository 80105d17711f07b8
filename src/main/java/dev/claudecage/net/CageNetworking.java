package dev.claudecage.net;

import dev.claudecage.CageException;
import dev.claudecage.config.CageConfig;
import dev.claudecage.config.NetworkMode;
import dev.claudecage.host.Directories;
import dev.claudecage.net.dns.DnsStub;
import dev.claudecage.net.gateway.ApiGateway;
import dev.claudecage.net.gateway.GitGateway;
import dev.claudecage.net.gateway.GitTokens;
import dev.claudecage.net.gateway.UpstreamTrust;
import dev.claudecage.net.gateway.PlaceholderKey;
import dev.claudecage.net.proxy.EgressProxy;
import dev.claudecage.net.proxy.ProxySettings;
import dev.claudecage.net.ssh.AgentRelay;
import dev.claudecage.net.ssh.KnownHosts;
import dev.claudecage.oci.NetworkAttachment;
import dev.claudecage.oci.Spec;
import dev.claudecage.UserInputException;
import dev.claudecage.process.ProcessRunner;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Everything a filtered cage's network needs, started in order and stopped in reverse: the
 * namespace, link and firewalls ({@link CageNetwork}), the audit log, the egress proxy, the API
 * gateway and the DNS stub on the gateway address, and the drop logger. These run in the JVM
 * that owns the cage: the launcher for {@code run}, the supervisor for a session.
 */
public final class CageNetworking implements AutoCloseable {

    /**
     * @param realKey   hands out the user's API key (a fresh array per call) or null when there is none
     * @param auditFile where the cage's audit log goes (appended)
     * @param stateDir  a private folder for the cage's network files (its resolv.conf)
     */
    public record Options(Supplier<char[]> realKey, Path auditFile, Path stateDir, Path lockFile) {
    }

    private final List<AutoCloseable> started = new ArrayList<>();
    private CageNetwork network;
    private AuditLog audit;
    private PlaceholderKey placeholder;
    private Path resolvConf;
    private List<String> gitEnvironment = List.of();
    private final List<String> sshEnvironment = new ArrayList<>();
    private final List<Spec.Mount> binds = new ArrayList<>();

    /** Where the SSH agent relay's folder appears in the cage: its socket, known_hosts and the proxy helper. */
    public static final String CAGE_SSH_DIR = "/run/claude-cage-ssh";

    private CageNetworking() {
    }

    public static CageNetworking start(String cageId, CageConfig config, Options options, ProcessRunner runner) {
        CageNetworking networking = new CageNetworking();
        try {
            networking.startAll(cageId, config, options, runner);
            return networking;
        } catch (RuntimeException e) {
            try {
                networking.close();
            } catch (CageException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    private void startAll(String cageId, CageConfig config, Options options, ProcessRunner runner) {
        GatewayPorts ports = GatewayPorts.STANDARD;
        EgressPolicy policy = EgressPolicy.from(config);
        try {
            Directories.createPrivate(options.stateDir());
        } catch (IOException e) {
            throw new CageException("cannot create " + options.stateDir() + ": " + e.getMessage());
        }
        started.add(() -> Directories.deleteRecursively(options.stateDir()));
        audit = AuditLog.open(options.auditFile());
        started.add(audit);
        network = CageNetwork.create(cageId, config.egress(), ports, options.lockFile(), runner);
        started.add(network);
        CageLink link = network.link();
        List<InetAddress> gateways = List.of(link.hostAddress4(), link.hostAddress6());
        started.add(EgressProxy.start(ProxySettings.withDefaultTimeouts(gateways, ports.proxy(), ports.https(), ports.http()),
                policy, NameResolver.forConfig(config, policy), audit));
        placeholder = PlaceholderKey.generate();
        Supplier<char[]> key = options.realKey() == null ? () -> new char[0] : options.realKey();
        // The gateway reaches only the user's own API upstream with the user's own key, so its traffic
        // is audited and its concurrency capped, but it is not counted against egress_limit: long
        // model conversations would otherwise cut off the agent's real work.
        ApiGateway.Settings defaults = ApiGateway.Settings.defaults();
        ApiGateway.Settings gatewaySettings = new ApiGateway.Settings(policy.maxConnections(),
                defaults.connectTimeout(), defaults.responseTimeout());
        for (InetAddress gateway : gateways) {
            started.add(ApiGateway.start(new InetSocketAddress(gateway, ports.apiGateway()), config.egress().apiUpstream(),
                    placeholder, key, audit::record, gatewaySettings));
            started.add(DnsStub.start(new InetSocketAddress(gateway, ports.dns()), policy, link.hostAddress4(),
                    link.hostAddress6(), audit::record));
        }
        startGitGateway(config, policy, gateways, ports, runner);
        startSshAgentRelay(config, policy, options.stateDir(), link, ports);
        started.add(DropLogger.start(network, audit, runner));
        resolvConf = options.stateDir().resolve("resolv.conf");
        try {
            // Readable by the cage's user through the bind mount; it holds no secret.
            Directories.writePrivateFile(resolvConf, "nameserver " + link.gateway4() + "\nnameserver "
                    + link.gateway6() + "\noptions ndots:1 timeout:2 attempts:2\n");
            Files.setPosixFilePermissions(resolvConf,
                    PosixFilePermissions.fromString("rw-r--r--"));
            Files.setPosixFilePermissions(options.stateDir(),
                    PosixFilePermissions.fromString("rwx--x--x"));
        } catch (IOException e) {
            throw new CageException("cannot write the cage's resolv.conf in " + options.stateDir() + ": " + e.getMessage());
        }
    }

    /** The git gateway, when some host has a git credential: the token is added here, outside the cage. */
    private void startGitGateway(CageConfig config, EgressPolicy policy, List<InetAddress> gateways, GatewayPorts ports,
                                 ProcessRunner runner) {
        var credentials = config.egress().credentials().git();
        if (credentials.isEmpty()) {
            return;
        }
        var tls = UpstreamTrust.context(config.egress().credentials().gitCaCertificates());
        GitTokens tokens = GitTokens.forInvokingUser(runner);
        NameResolver resolver = NameResolver.forConfig(config, policy);
        for (InetAddress gateway : gateways) {
            started.add(GitGateway.start(new InetSocketAddress(gateway, ports.gitGateway()), placeholder, credentials,
                    tokens::token, policy, resolver, tls, audit::record,
                    GitGateway.Settings.defaults(policy.maxConnections())));
        }
        gitEnvironment = GitGateway.gitConfig(network.link().gateway4() + ":" + ports.gitGateway(), placeholder,
                credentials);
    }

    /**
     * The SSH agent relay, with --ssh-agent: a socket in a folder of the cage's own (bound read-only
     * into the cage), the known_hosts lines of ssh_agent_hosts for the cage's ssh to check servers
     * with, and a helper that takes ssh through the proxy with CONNECT (ssh ignores HTTPS_PROXY).
     */
    private void startSshAgentRelay(CageConfig config, EgressPolicy policy, Path stateDir, CageLink link,
                                    GatewayPorts ports) {
        var credentials = config.egress().credentials();
        if (!credentials.sshAgent()) {
            return;
        }
        String hostAgent = System.getenv("SSH_AUTH_SOCK");
        if (hostAgent == null || hostAgent.isBlank() || !Files.exists(Path.of(hostAgent))) {
            throw new UserInputException("--ssh-agent forwards the host's SSH agent, but SSH_AUTH_SOCK "
                    + (hostAgent == null || hostAgent.isBlank() ? "is not set" : "names no socket (" + hostAgent + ")")
                    + "; start an agent (eval $(ssh-agent); ssh-add) or leave --ssh-agent off");
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
                        + ") or add its key to a known_hosts file in ssh_known_hosts");
            }
        }
        Path dir = stateDir.resolve("ssh");
        Path socket = dir.resolve("agent.sock");
        try {
            Files.createDirectory(dir);
            Directories.writePrivateFile(dir.resolve("known_hosts"), knownHosts.asKnownHostsFile());
            Directories.writePrivateFile(dir.resolve("proxy-connect"), proxyConnectScript(link.gateway4(), ports.proxy()));
            for (String file : List.of("known_hosts", "proxy-connect")) {
                Files.setPosixFilePermissions(dir.resolve(file),
                        PosixFilePermissions.fromString("rw-r--r--"));
            }
            Files.setPosixFilePermissions(dir,
                    PosixFilePermissions.fromString("rwx--x--x"));
        } catch (IOException e) {
            throw new CageException("cannot prepare the SSH agent relay's folder " + dir + ": " + e.getMessage());
        }
        started.add(AgentRelay.start(socket, Path.of(hostAgent), knownHosts, audit::record));
        try {
            // Only the cage's user may use the socket: no other user of the host borrows the agent through it.
            Files.setAttribute(socket, "unix:uid", config.uid());
            Files.setAttribute(socket, "unix:gid", config.gid());
            Files.setPosixFilePermissions(socket,
                    PosixFilePermissions.fromString("rw-------"));
        } catch (IOException e) {
            throw new CageException("cannot hand the SSH agent socket " + socket + " to the cage's user: " + e.getMessage());
        }
        binds.add(new Spec.Mount(CAGE_SSH_DIR, "bind", dir.toString(), List.of("bind", "ro", "nosuid", "nodev", "noexec")));
        sshEnvironment.add("SSH_AUTH_SOCK=" + CAGE_SSH_DIR + "/agent.sock");
        sshEnvironment.add("GIT_SSH_COMMAND=ssh -o 'ProxyCommand=bash " + CAGE_SSH_DIR + "/proxy-connect %h %p' "
                + "-o GlobalKnownHostsFile=" + CAGE_SSH_DIR + "/known_hosts");
    }

    /**
     * A ProxyCommand for ssh in the cage: an HTTP CONNECT through the cage's proxy, in plain bash
     * (every image has it). bash reads the proxy's answer a byte at a time from the socket, so no
     * byte of the server's banner is swallowed with it.
     */
    static String proxyConnectScript(String proxyAddress, int proxyPort) {
        return "# ssh -o 'ProxyCommand=bash " + CAGE_SSH_DIR + "/proxy-connect %h %p' HOST: ssh through the cage's\n"
                + "# egress proxy (HTTP CONNECT). The proxy allows only what allowed_hosts lists, e.g. HOST:22.\n"
                + "exec 3<>/dev/tcp/" + proxyAddress + "/" + proxyPort + " || exit 1\n"
                + "printf 'CONNECT %s:%s HTTP/1.1\\r\\nHost: %s:%s\\r\\n\\r\\n' \"$1\" \"$2\" \"$1\" \"$2\" >&3\n"
                + "IFS= read -r status <&3\n"
                + "case $status in\n"
                + "  'HTTP/1.'?' 200'*) ;;\n"
                + "  *) echo \"claude-cage proxy: ${status%$'\\r'}\" >&2; exit 1 ;;\n"
                + "esac\n"
                + "while IFS= read -r line <&3 && [ -n \"${line%$'\\r'}\" ]; do :; done\n"
                + "cat <&3 &\n"
                + "exec cat >&3\n";
    }

    public CageLink link() {
        return network.link();
    }

    public AuditLog audit() {
        return audit;
    }

    /** What the spec needs: the namespace to join, the variables that point tools at the proxy and gateway. */
    public NetworkAttachment attachment(boolean hasRealKey) {
        CageLink link = network.link();
        GatewayPorts ports = GatewayPorts.STANDARD;
        String proxy = "http://" + link.gateway4() + ":" + ports.proxy();
        String noProxy = "localhost,127.0.0.1,::1," + link.gateway4() + "," + link.gateway6();
        List<String> env = new ArrayList<>(List.of(
                "HTTP_PROXY=" + proxy, "HTTPS_PROXY=" + proxy, "http_proxy=" + proxy, "https_proxy=" + proxy,
                "NO_PROXY=" + noProxy, "no_proxy=" + noProxy));
        if (hasRealKey) {
            // With a key on the host, the API goes through the gateway. Without one, Claude Code uses its own
            // login (claude login, kept in the persisted home) and reaches the API through the proxy: the gateway
            // would refuse its OAuth token, which is not the placeholder.
            env.add("ANTHROPIC_BASE_URL=http://" + link.gateway4() + ":" + ports.apiGateway());
            env.add("ANTHROPIC_API_KEY=" + placeholder.value());
        }
        env.addAll(gitEnvironment);
        env.addAll(sshEnvironment);
        return new NetworkAttachment(NetworkMode.FILTERED, network.namespacePath(), env, resolvConf, binds);
    }

    /** Stops everything in reverse order, as far as it can, and reports every failure. */
    @Override
    public void close() {
        List<String> failures = new ArrayList<>();
        for (int i = started.size() - 1; i >= 0; i--) {
            try {
                started.get(i).close();
            } catch (Exception e) {
                failures.add(e.getMessage());
            }
        }
        started.clear();
        if (!failures.isEmpty()) {
            throw new CageException("network teardown was incomplete: " + String.join("; ", failures),
                    "claude-cage gc removes what is left once the cause is fixed");
        }
    }
}
