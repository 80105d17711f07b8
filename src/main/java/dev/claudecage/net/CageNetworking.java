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
import dev.claudecage.net.ssh.AgentForwarding;
import dev.claudecage.oci.NetworkAttachment;
import dev.claudecage.oci.Spec;
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

    /** The SSH agent relay, with --ssh-agent, in a folder of the cage's own. */
    private void startSshAgentRelay(CageConfig config, EgressPolicy policy, Path stateDir, CageLink link,
                                    GatewayPorts ports) {
        if (!config.egress().credentials().sshAgent()) {
            return;
        }
        AgentForwarding forwarding = AgentForwarding.start(config.egress().credentials(), policy, stateDir.resolve("ssh"),
                config.uid(), config.gid(), link.gateway4(), ports.proxy(), audit::record);
        started.add(forwarding);
        binds.add(forwarding.bind());
        sshEnvironment.addAll(forwarding.environment());
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
