package dev.claudecage.net.cage;

import dev.claudecage.CageException;
import dev.claudecage.Teardown;
import dev.claudecage.config.CageConfig;
import dev.claudecage.config.MountSpec;
import dev.claudecage.config.NetworkMode;
import dev.claudecage.host.Directories;
import dev.claudecage.host.Host;
import dev.claudecage.host.HostIds;
import dev.claudecage.host.UntrustedText;
import dev.claudecage.net.AuditLog;
import dev.claudecage.net.EgressPolicy;
import dev.claudecage.net.NameResolver;
import dev.claudecage.net.dns.DnsStub;
import dev.claudecage.net.gateway.ApiCredential;
import dev.claudecage.net.gateway.ApiGateway;
import dev.claudecage.net.gateway.GitGateway;
import dev.claudecage.net.gateway.GitTokens;
import dev.claudecage.net.gateway.UpstreamTrust;
import dev.claudecage.net.gateway.PlaceholderKey;
import dev.claudecage.net.proxy.EgressProxy;
import dev.claudecage.net.proxy.ProxySettings;
import dev.claudecage.net.proxy.RelayRoute;
import dev.claudecage.net.proxy.TrafficLimits;
import dev.claudecage.net.ssh.AgentForwarding;
import dev.claudecage.oci.NetworkAttachment;
import dev.claudecage.oci.Spec;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.process.ThisJvm;
import dev.claudecage.rootless.UserNamespace;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Everything a filtered cage's network needs, started in order and stopped in reverse: the
 * namespace, link and firewalls ({@link CageNetwork}), the audit log, the egress proxy, the API
 * gateway and the DNS stub on the gateway address, and the drop logger. These run in the JVM
 * that owns the cage: the launcher for {@code run}, the supervisor for a session.
 * <p>
 * A rootless cage ({@link #startRootless}) has no link: its network namespace, in its user
 * namespace, has only loopback. The same proxy, gateway and DNS stub, with the same policy and
 * audit log, listen on the host's loopback; each is reached from the cage's loopback through the
 * {@link LoopbackRelay} (one process in the cage's namespace) to a Unix socket in the cage's private
 * folder, and a {@link UnixBridge} from there to the service.
 */
public final class CageNetworking implements AutoCloseable {

    /**
     * @param realKey         the user's API key or Claude login, or null when there is none; the API gateway
     *                        runs only with one
     * @param auditFile       where the cage's audit log goes (appended)
     * @param stateDir        a private folder for the cage's network files (its resolv.conf)
     * @param placeholder     the API key the cage holds in place of the real one, kept for a session's
     *                        whole life so that Claude Code's approval of it holds; null for a fresh one
     * @param openIdlePorts   whether the firewalls open the ports of gateway services that do not run, as
     *                        they did before: only for verify's positive control, which must see that hole
     * @param trail           the cage's evidence trail, opened by its owner (at {@code auditFile}), which also
     *                        writes how the cage started and ended, so that it outlives the network; null: the
     *                        network opens the log itself and closes it with the rest
     */
    public record Options(ApiCredential realKey, Path auditFile, Path stateDir, Path lockFile,
                          PlaceholderKey placeholder, boolean openIdlePorts, AuditLog trail) {

        /** With a fresh placeholder, for a cage that runs once; the firewalls open only what runs. */
        public Options(ApiCredential realKey, Path auditFile, Path stateDir, Path lockFile) {
            this(realKey, auditFile, stateDir, lockFile, null, false, null);
        }

        /** With the session's own placeholder; the firewalls open only what runs. */
        public Options(ApiCredential realKey, Path auditFile, Path stateDir, Path lockFile, PlaceholderKey placeholder) {
            this(realKey, auditFile, stateDir, lockFile, placeholder, false, null);
        }

        public Options withoutRealKey() {
            return new Options(null, auditFile, stateDir, lockFile, placeholder, openIdlePorts, trail);
        }

        public Options withIdlePortsOpen() {
            return new Options(realKey, auditFile, stateDir, lockFile, placeholder, true, trail);
        }

        /** These options with the trail the cage's owner opened, which the network writes to and leaves open. */
        public Options withTrail(AuditLog openTrail) {
            return new Options(realKey, openTrail.file(), stateDir, lockFile, placeholder, openIdlePorts, openTrail);
        }
    }

    /** How long the relay in a rootless cage's namespace gets to start listening (a JVM's start, on a busy host). */
    private static final Duration RELAY_START = Duration.ofSeconds(20);
    /**
     * The relay's JVM idles, and copies bytes when it does not: C1 only, the serial collector, a
     * small heap and small thread stacks, no perf-data file; an unknown option must not stop it.
     */
    private static final List<String> RELAY_JVM_FLAGS = List.of(ThisJvm.NATIVE_ACCESS, "-XX:+IgnoreUnrecognizedVMOptions",
            "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1", "-Xshare:auto", "-Xms4m",
            "-Xmx32m", "-Xss256k", "-XX:ReservedCodeCacheSize=16m", "-XX:MaxMetaspaceSize=32m", "-XX:-UsePerfData");
    /** Connections a relay takes beyond max_connections, so that the proxy, not the relay, refuses the excess. */
    private static final int RELAY_HEADROOM = 8;
    /** Where a rootless cage's relays listen, in its own network namespace. */
    private static final Inet4Address CAGE_LOOPBACK = ipv4Loopback();

    private final Teardown started = new Teardown("network teardown", Teardown.GC_REMOVES_THE_REST);
    private CageNetwork network;
    private AuditLog audit;
    private PlaceholderKey placeholder;
    private boolean placeholderInCage;
    private Path resolvConf;
    private List<String> gitEnvironment = List.of();
    private final List<String> sshEnvironment = new ArrayList<>();
    private final List<Spec.Mount> binds = new ArrayList<>();
    /** Where the cage finds its proxy and gateway, and the namespace it joins. */
    private String gateway4;
    private String gateway6;
    private String namespacePath;
    private GatewayPorts.Services services;
    /** The cage's TCP relays, for allowed_hosts entries on ports other than 80 and 443; none through a gateway elsewhere. */
    private List<RelayRoute> tcpRelays = List.of();
    /** Whether the cage's gateway runs elsewhere (network: gateway:ADDRESS). */
    private boolean external;
    /** Which of the user's credentials the gateway holds, and so which variable carries the placeholder. */
    private ApiCredential.Kind credentialKind;

    private CageNetworking() {
    }

    /**
     * @param cageUser        the host ids the cage's user is, to whom what the cage reaches of the host is handed
     * @param namespaceHolder a process in the network namespace to build the cage's network in (one that the
     *                        cage's own user namespace owns), or 0 for a new one
     */
    public static CageNetworking start(String cageId, CageConfig config, HostIds cageUser, long namespaceHolder,
                                       Options options, ProcessRunner runner) {
        return started(networking -> networking.startAll(cageId, config, cageUser, namespaceHolder, options, runner));
    }

    /** A new instance after {@code startAll}; when that fails, what it started is stopped again. */
    private static CageNetworking started(java.util.function.Consumer<CageNetworking> startAll) {
        CageNetworking networking = new CageNetworking();
        try {
            startAll.accept(networking);
            return networking;
        } catch (RuntimeException e) {
            throw Teardown.closeAfter(networking, e);
        }
    }

    /**
     * A rootless filtered cage's network: its namespace is {@code namespace}'s own (loopback only).
     * The services listen on the host's loopback, and relays on the cage's loopback reach them, each
     * on its standard port: the proxy, the proxy's transparent listeners (80, 443), the DNS stub (53,
     * UDP and TCP), which answers 127.0.0.1 for allowed names as the root-mode stub answers the
     * gateway, and the API and git gateways when they run (nothing is relayed for one that does not).
     * So names resolve, policy and audit are those of root mode, and a tool that ignores the proxy
     * variables still meets the transparent listeners.
     */
    public static CageNetworking startRootless(CageConfig config, Options options, UserNamespace namespace,
                                               ProcessRunner runner) {
        return started(networking -> networking.startRootlessAll(config, options, namespace, runner));
    }

    private void startRootlessAll(CageConfig config, Options options, UserNamespace namespace, ProcessRunner runner) {
        if (config.egress().hasExternalGateway()) {
            throw new CageException("a rootless cage has no link to lead to a gateway elsewhere (network: gateway:"
                    + config.egress().externalGateway() + ")", "run it as root, or use network: filtered");
        }
        GatewayPorts ports = GatewayPorts.STANDARD;
        EgressPolicy policy = decideServices(config, options);
        InetAddress loopback = InetAddress.getLoopbackAddress();
        TrafficLimits limits = TrafficLimits.of(policy);
        // The cage's loopback is its own: nothing of the host's holds a port there.
        tcpRelays = TcpRelays.plan(policy, ports, Set.of());
        // On the host's loopback each relay takes a free port; the cage meets it on its planned one.
        List<RelayRoute> relaysOnHost = tcpRelays.stream()
                .map(route -> new RelayRoute(route.host(), route.port(), 0)).toList();
        EgressProxy proxy = EgressProxy.start(ProxySettings.withDefaultTimeouts(List.of(loopback), 0, 0, 0)
                .withRelays(relaysOnHost), policy, limits, NameResolver.forConfig(config, policy), audit);
        started.push("stop the egress proxy", proxy);
        placeholder = placeholder(options);
        // Allowed names resolve to the cage's own loopback, where the relays listen; AAAA has no record,
        // as the relays listen on IPv4 only.
        DnsStub dns = DnsStub.start(new InetSocketAddress(loopback, 0), policy, CAGE_LOOPBACK, null, audit::record);
        started.push("stop the DNS stub", dns);
        int relayLimit = policy.maxConnections() + RELAY_HEADROOM;
        Path state = options.stateDir();
        // Only what runs is relayed: the cage's loopback has nothing else listening.
        List<Relay> relays = new ArrayList<>(List.of(
                Relay.tcp(ports.proxy(), state.resolve("proxy.sock"), new InetSocketAddress(loopback, proxy.httpProxyPort())),
                Relay.tcp(ports.https(), state.resolve("https.sock"), new InetSocketAddress(loopback, proxy.transparentTlsPort())),
                Relay.tcp(ports.http(), state.resolve("http.sock"), new InetSocketAddress(loopback, proxy.transparentHttpPort())),
                Relay.tcp(ports.dns(), state.resolve("dns-tcp.sock"), dns.address()),
                Relay.udp(ports.dns(), state.resolve("dns-udp.sock"), dns.address())));
        for (int i = 0; i < tcpRelays.size(); i++) {
            relays.add(Relay.tcp(tcpRelays.get(i).listenPort(), state.resolve("tcp-relay-" + i + ".sock"),
                    new InetSocketAddress(loopback, proxy.relayPort(relaysOnHost.get(i)))));
        }
        if (services.apiGateway()) {
            ApiGateway gateway = ApiGateway.start(new InetSocketAddress(loopback, 0), config.egress().apiUpstream(),
                    placeholder, options.realKey(), audit::record, limits, ApiGateway.Settings.defaults());
            started.push("stop the API gateway", gateway);
            relays.add(Relay.tcp(ports.apiGateway(), state.resolve("gateway.sock"), gateway.address()));
        }
        String cageLoopback = CAGE_LOOPBACK.getHostAddress();
        startGitGateway(config, policy, List.of(new InetSocketAddress(loopback, 0)), cageLoopback + ":" + ports.gitGateway(),
                runner).ifPresent(git -> relays.add(Relay.tcp(ports.gitGateway(), state.resolve("git.sock"), git.address())));
        // The agent's socket is bound into the cage, which crosses namespaces: the cage's uid 1000 is this user.
        startSshAgentRelay(config, policy, state, new HostIds(Host.effectiveUid(), Host.effectiveGid()), cageLoopback, ports);
        for (Relay relay : relays) {
            started.push("stop the bridge for " + relay.route().name(), relay.udp()
                    ? UnixBridge.toDatagram(relay.socket(), relay.service(), relayLimit)
                    : UnixBridge.toStream(relay.socket(), relay.service(), relayLimit));
        }
        List<String> command = new ArrayList<>(List.of(ThisJvm.java().toString()));
        command.addAll(RELAY_JVM_FLAGS);
        command.addAll(List.of("-cp", ThisJvm.absoluteClassPath(System.getProperty("java.class.path")),
                LoopbackRelay.class.getName(), Integer.toString(relayLimit)));
        relays.forEach(relay -> command.add(relay.route().argument()));
        Process process = runner.startTethered(namespace.wrapInNetwork(command));
        started.push("stop the relay in the cage's namespace", () -> ProcessRunner.stop(process, RELAY_START));
        for (Relay relay : relays) {
            awaitListening(process, relay.route());
        }
        gateway4 = cageLoopback;
        namespacePath = namespace.namespacePath("net").toString();
        writeResolvConf(options, "nameserver 127.0.0.1\noptions ndots:1 timeout:2 attempts:2\n");
    }

    /** The cage's loopback port relayed to {@code service} through a Unix socket. */
    private record Relay(LoopbackRelay.Route route, InetSocketAddress service) {

        static Relay tcp(int port, Path socket, InetSocketAddress service) {
            return new Relay(new LoopbackRelay.Route(false, port, socket), service);
        }

        static Relay udp(int port, Path socket, InetSocketAddress service) {
            return new Relay(new LoopbackRelay.Route(true, port, socket), service);
        }

        boolean udp() {
            return route.udp();
        }

        Path socket() {
            return route.socket();
        }
    }

    /**
     * Waits until {@code process} listens for {@code route}: its namespace's /proc/PID/net/tcp lists
     * the port as LISTEN (0A), or /proc/PID/net/udp as bound (07).
     */
    private static void awaitListening(Process process, LoopbackRelay.Route route) {
        String localPort = String.format(":%04X ", route.port());
        String state = route.udp() ? "07" : "0A";
        Path table = Path.of("/proc", Long.toString(process.pid()), "net", route.udp() ? "udp" : "tcp");
        long deadline = System.nanoTime() + RELAY_START.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new CageException("the relay in the cage's namespace ended at once (exit code " + process.exitValue()
                        + "): " + UntrustedText.excerpt(stderr(process)));
            }
            try {
                // Column 4 is the state.
                if (Files.readAllLines(table).stream().anyMatch(line -> line.contains(localPort)
                        && line.strip().split("\\s+")[3].equals(state))) {
                    return;
                }
                Thread.sleep(5);
            } catch (IOException raced) {
                // The relay is between fork and exec; the next round tells.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CageException("interrupted while the cage's relay started");
            }
        }
        throw new CageException("the relay for " + route.name() + " did not listen within " + RELAY_START.toSeconds() + "s");
    }

    private static String stderr(Process process) {
        try {
            return new String(process.getErrorStream().readNBytes(2000), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            return "(its error output could not be read: " + e.getMessage() + ")";
        }
    }

    private static Inet4Address ipv4Loopback() {
        try {
            return (Inet4Address) InetAddress.getByAddress(new byte[] {127, 0, 0, 1});
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException("four bytes are always an IPv4 address", e);
        }
    }

    private void openState(Options options, CageConfig config) {
        try {
            Directories.createPrivate(options.stateDir());
        } catch (IOException e) {
            throw new CageException("cannot create " + options.stateDir() + ": " + e.getMessage());
        }
        started.push("remove " + options.stateDir(), () -> Directories.deleteRecursively(options.stateDir()));
        if (options.trail() != null) {
            audit = options.trail();
        } else {
            audit = started.push("close the audit log", openAuditLog(options.auditFile(), config));
        }
    }

    /**
     * Opens a cage's audit log at {@code file}, for appending: beneath the cage's writable mounts without
     * following a link when it lies in one, capped at the configuration's audit_log_limit.
     */
    public static AuditLog openAuditLog(Path file, CageConfig config) {
        return AuditLog.open(file, config.mounts().stream().filter(mount -> !mount.readOnly())
                .map(MountSpec::source).toList(), config.egress().auditLogLimitBytes());
    }

    /** The gateways that run: the API gateway with the user's key on the host, the git gateway with git_credentials. */
    public static GatewayPorts.Services services(CageConfig config, boolean hasRealKey) {
        return new GatewayPorts.Services(hasRealKey, !config.egress().credentials().git().isEmpty());
    }

    /** Which services run (the API gateway only with a credential), the policy that follows, and the state they write. */
    private EgressPolicy decideServices(CageConfig config, Options options) {
        services = services(config, options.realKey() != null);
        credentialKind = options.realKey() == null ? null : options.realKey().kind();
        EgressPolicy policy = EgressPolicy.from(config, services.apiGateway());
        openState(options, config);
        return policy;
    }

    private static PlaceholderKey placeholder(Options options) {
        return options.placeholder() != null ? options.placeholder() : PlaceholderKey.generate();
    }

    private void startAll(String cageId, CageConfig config, HostIds cageUser, long namespaceHolder, Options options,
                          ProcessRunner runner) {
        if (config.egress().hasExternalGateway()) {
            startToGateway(cageId, config, namespaceHolder, options, runner);
            return;
        }
        GatewayPorts ports = GatewayPorts.STANDARD;
        EgressPolicy policy = decideServices(config, options);
        tcpRelays = TcpRelays.plan(policy, ports, HostListeners::portsOnAllAddresses);
        services = services.withRelayPorts(TcpRelays.gatewayPorts(tcpRelays));
        // The services bind the host's end while the cage's end is still being made; the cage waits for both.
        network = CageNetwork.begin(cageId, config.egress(), ports,
                options.openIdlePorts() ? GatewayPorts.Services.ALL.withRelayPorts(services.relayPorts()) : services,
                namespaceHolder, options.lockFile(), runner);
        started.push("take down the namespace, link and firewalls", network);
        // tcpdump starts while the proxy, gateways and DNS stub do; the cage waits for all of them.
        DropLogger dropLogger = started.push("stop the drop logger", DropLogger.launch(network, audit, runner));
        CageLink link = network.link();
        List<InetAddress> gateways = List.of(link.hostAddress4(), link.hostAddress6());
        // One set of limits for the cage: its proxy and its API gateway count its connections and bytes together.
        TrafficLimits limits = TrafficLimits.of(policy);
        started.push("stop the egress proxy", EgressProxy.start(ProxySettings.withDefaultTimeouts(gateways, ports.proxy(),
                ports.https(), ports.http()).withRelays(tcpRelays), policy, limits, NameResolver.forConfig(config, policy), audit));
        placeholder = placeholder(options);
        for (InetAddress gateway : gateways) {
            if (services.apiGateway()) {
                started.push("stop the API gateway on " + gateway.getHostAddress(), ApiGateway.start(new InetSocketAddress(gateway, ports.apiGateway()),
                        config.egress().apiUpstream(), placeholder, options.realKey(), audit::record, limits,
                        ApiGateway.Settings.defaults()));
            }
            started.push("stop the DNS stub on " + gateway.getHostAddress(), DnsStub.start(new InetSocketAddress(gateway, ports.dns()), policy, link.hostAddress4(),
                    link.hostAddress6(), audit::record));
        }
        List<InetSocketAddress> gitBinds = gateways.stream()
                .map(address -> new InetSocketAddress(address, ports.gitGateway())).toList();
        startGitGateway(config, policy, gitBinds, link.gateway4() + ":" + ports.gitGateway(), runner);
        startSshAgentRelay(config, policy, options.stateDir(), cageUser, link.gateway4(), ports);
        dropLogger.awaitListening();
        network.awaitCageEnd();
        gateway4 = link.gateway4();
        gateway6 = link.gateway6();
        namespacePath = network.namespacePath();
        writeResolvConf(options, "nameserver " + link.gateway4() + "\nnameserver " + link.gateway6()
                + "\noptions ndots:1 timeout:2 attempts:2\n");
    }

    /**
     * Where a standalone gateway ({@link #serve}) listens, and what it tells its clients.
     *
     * @param binds    the addresses every service listens on
     * @param ports    the ports of its services there
     * @param answer4  what the DNS stub answers for an allowed name: the address the clients reach the gateway
     *                 at (a Service's address, a veth's), where the transparent listeners take the connection
     * @param answer6  the same for AAAA, or null when the clients reach the gateway over IPv4 only
     */
    public record Standalone(List<InetAddress> binds, GatewayPorts ports, Inet4Address answer4,
                             java.net.Inet6Address answer6) {
        public Standalone {
            binds = List.copyOf(binds);
            if (binds.isEmpty()) {
                throw new IllegalArgumentException("a standalone gateway listens on at least one address");
            }
        }
    }

    /**
     * The services of a filtered cage without the cage: the proxy (explicit and transparent), the DNS stub,
     * the API gateway (with a credential) and the git gateway (with git_credentials), listening on the given
     * addresses, under one policy, one set of limits and one audit log. Nothing here makes a namespace or a
     * firewall: what reaches these ports is the caller's to decide (a NetworkPolicy, a host's routes). The
     * SSH agent relay is a socket bound into a cage, so it has no place here.
     */
    public static CageNetworking serve(CageConfig config, Options options, Standalone where, ProcessRunner runner) {
        if (config.egress().credentials().sshAgent()) {
            throw new CageException("a standalone gateway cannot forward an SSH agent: the relay is a socket bound into "
                    + "a cage on the same host", "leave out --ssh-agent (ssh_agent: false)");
        }
        return started(networking -> networking.serveAll(config, options, where, runner));
    }

    private void serveAll(CageConfig config, Options options, Standalone where, ProcessRunner runner) {
        GatewayPorts ports = where.ports();
        EgressPolicy policy = decideServices(config, options);
        TrafficLimits limits = TrafficLimits.of(policy);
        started.push("stop the egress proxy", EgressProxy.start(ProxySettings.withDefaultTimeouts(where.binds(),
                ports.proxy(), ports.https(), ports.http()), policy, limits, NameResolver.forConfig(config, policy), audit));
        placeholder = placeholder(options);
        for (InetAddress bind : where.binds()) {
            if (services.apiGateway()) {
                started.push("stop the API gateway on " + bind.getHostAddress(), ApiGateway.start(
                        new InetSocketAddress(bind, ports.apiGateway()), config.egress().apiUpstream(), placeholder,
                        options.realKey(), audit::record, limits, ApiGateway.Settings.defaults()));
            }
            started.push("stop the DNS stub on " + bind.getHostAddress(), DnsStub.start(
                    new InetSocketAddress(bind, ports.dns()), policy, where.answer4(), where.answer6(), audit::record));
        }
        startGitGateway(config, policy, where.binds().stream()
                .map(bind -> new InetSocketAddress(bind, ports.gitGateway())).toList(),
                where.answer4().getHostAddress() + ":" + ports.gitGateway(), runner);
    }

    /**
     * A filtered cage whose services run elsewhere ({@code network: gateway:ADDRESS}, a {@code claude-cage gateway
     * serve}): its namespace, link and firewalls as ever, but the only destination they admit is that gateway's
     * ports, which the host forwards to. Nothing runs beside the cage but the drop logger; the policy, limits and
     * audit trail of its traffic are the gateway's. The cage finds the gateway as it would its own, on the
     * standard ports, and holds no key: the gateway's placeholder is the user's to give it (--env).
     */
    private void startToGateway(String cageId, CageConfig config, long namespaceHolder, Options options,
                                ProcessRunner runner) {
        String gateway = config.egress().externalGateway();
        requireForwarding();
        // All the gateway's ports: which of its services run is the gateway's to know, and it listens on nothing else.
        services = GatewayPorts.Services.ALL;
        openState(options, config);
        GatewayPorts ports = GatewayPorts.STANDARD;
        network = CageNetwork.create(cageId, config.egress(), ports, services, namespaceHolder, options.lockFile(), runner);
        started.push("take down the namespace, link and firewalls", network);
        started.push("stop the drop logger", DropLogger.start(network, audit, runner));
        gateway4 = gateway;
        namespacePath = network.namespacePath();
        external = true;
        writeResolvConf(options, "nameserver " + gateway + "\noptions ndots:1 timeout:2 attempts:2\n");
    }

    /** The host forwards the cage's packets to the gateway only when the kernel forwards at all. */
    private static void requireForwarding() {
        Path forwarding = Path.of("/proc/sys/net/ipv4/ip_forward");
        try {
            if (!Files.readString(forwarding).strip().equals("1")) {
                throw new CageException("network: gateway:ADDRESS needs this host to forward the cage's packets to the "
                        + "gateway, and " + forwarding + " is 0", "sysctl -w net.ipv4.ip_forward=1 (the cage's firewall "
                        + "on this host forwards only to the gateway's ports)");
            }
        } catch (IOException e) {
            throw new CageException("cannot read " + forwarding + ": " + e.getMessage());
        }
    }

    private void writeResolvConf(Options options, String content) {
        resolvConf = options.stateDir().resolve("resolv.conf");
        try {
            // Readable by the cage's user through the bind mount; it holds no secret.
            Directories.writePrivateFile(resolvConf, content);
            Files.setPosixFilePermissions(resolvConf, PosixFilePermissions.fromString("rw-r--r--"));
            if (Host.effectiveUid() != 0) {
                // A rootless runtime opens the bind's source as the cage's root, a subordinate id; as root, the
                // runtime opens it from the host, and the folder stays the cage's alone.
                Files.setPosixFilePermissions(options.stateDir(), PosixFilePermissions.fromString("rwx--x--x"));
            }
        } catch (IOException e) {
            throw new CageException("cannot write the cage's resolv.conf in " + options.stateDir() + ": " + e.getMessage());
        }
    }

    /**
     * The git gateway, when some host has a git credential: the token is added here, outside the
     * cage. It listens on each of {@code binds}; the cage's git reaches it at {@code cageHostPort}.
     * The first gateway started, if any.
     */
    private java.util.Optional<GitGateway> startGitGateway(CageConfig config, EgressPolicy policy,
                                                           List<InetSocketAddress> binds, String cageHostPort,
                                                           ProcessRunner runner) {
        var credentials = config.egress().credentials().git();
        if (credentials.isEmpty()) {
            return java.util.Optional.empty();
        }
        var tls = UpstreamTrust.context(config.egress().credentials().gitCaCertificates());
        GitTokens tokens = GitTokens.forInvokingUser(runner);
        NameResolver resolver = NameResolver.forConfig(config, policy);
        List<GitGateway> gateways = new ArrayList<>();
        for (InetSocketAddress bind : binds) {
            GitGateway gateway = GitGateway.start(bind, placeholder, credentials,
                    config.egress().credentials().gitAccess(), tokens::token, policy, resolver, tls,
                    audit::record, GitGateway.Settings.defaults(policy.maxConnections()));
            started.push("stop the git gateway on " + bind, gateway);
            gateways.add(gateway);
        }
        gitEnvironment = GitGateway.gitConfig(cageHostPort, placeholder, credentials);
        return gateways.stream().findFirst();
    }

    /**
     * The SSH agent relay, with --ssh-agent, in a folder of the cage's own bound into it; its socket
     * is handed to {@code cageUser}, who is the cage's user on the host, and ssh in the cage gets out
     * through the proxy at {@code cageProxyAddress}.
     */
    private void startSshAgentRelay(CageConfig config, EgressPolicy policy, Path stateDir, HostIds cageUser,
                                    String cageProxyAddress, GatewayPorts ports) {
        if (!config.egress().credentials().sshAgent()) {
            return;
        }
        AgentForwarding forwarding = AgentForwarding.start(config.egress().credentials(), policy, stateDir.resolve("ssh"),
                cageUser, cageProxyAddress, ports.proxy(), audit::record);
        started.push("stop the SSH agent relay", forwarding);
        binds.add(forwarding.bind());
        sshEnvironment.addAll(forwarding.environment());
    }

    /** Whether the cage has a link to the host (a rootless cage has loopback only). */
    public boolean hasLink() {
        return network != null;
    }

    /** The cage's link to the host; a rootless cage has none. */
    public CageLink link() {
        if (network == null) {
            throw new IllegalStateException("a rootless cage has no link");
        }
        return network.link();
    }

    public AuditLog audit() {
        return audit;
    }

    /** The gateway services that run for this cage; the firewalls open no other gateway port. */
    public GatewayPorts.Services services() {
        return services;
    }

    /** The cage's TCP relays: where on the gateway it reaches each allowed_hosts entry on another port. */
    public List<RelayRoute> relays() {
        return tcpRelays;
    }

    /** What the spec needs: the namespace to join, the variables that point tools at the proxy and gateway. */
    public NetworkAttachment attachment() {
        GatewayPorts ports = GatewayPorts.STANDARD;
        List<String> env = new ArrayList<>(proxyEnvironment(gateway4, gateway6, ports));
        if (external) {
            env.add(apiBaseUrl(gateway4, ports));
        } else if (services.apiGateway()) {
            // With a key or a Claude login on the host, the API goes through the gateway, and only through it
            // (EgressPolicy.apiHosts). Without either, no gateway runs: Claude Code uses its own login (claude login,
            // kept in the persisted home) and reaches the API through the proxy, with whatever credential the agent holds.
            env.addAll(apiEnvironment(gateway4, ports, credentialKind, placeholder));
            placeholderInCage = true;
        }
        env.addAll(gitEnvironment);
        env.addAll(sshEnvironment);
        env.addAll(TcpRelays.environment(tcpRelays));
        return new NetworkAttachment(NetworkMode.FILTERED, namespacePath, env, resolvConf, binds);
    }

    /**
     * The variables that point a client's tools at the proxy of a gateway at {@code gateway4} (and
     * {@code gateway6}, or null), and keep the gateway itself and loopback out of the proxy.
     */
    public static List<String> proxyEnvironment(String gateway4, String gateway6, GatewayPorts ports) {
        String proxy = "http://" + gateway4 + ":" + ports.proxy();
        String noProxy = "localhost,127.0.0.1,::1" + (gateway4.equals("127.0.0.1") ? "" : "," + gateway4)
                + (gateway6 == null ? "" : "," + gateway6);
        return List.of("HTTP_PROXY=" + proxy, "HTTPS_PROXY=" + proxy, "http_proxy=" + proxy, "https_proxy=" + proxy,
                "NO_PROXY=" + noProxy, "no_proxy=" + noProxy);
    }

    /** The variables that send a client's API calls to the API gateway at {@code gateway4}, with the placeholder. */
    public static List<String> apiEnvironment(String gateway4, GatewayPorts ports, ApiCredential.Kind kind,
                                              PlaceholderKey placeholder) {
        return List.of(apiBaseUrl(gateway4, ports), kind.cageVariable() + "=" + placeholder.value());
    }

    private static String apiBaseUrl(String gateway4, GatewayPorts ports) {
        return "ANTHROPIC_BASE_URL=http://" + gateway4 + ":" + ports.apiGateway();
    }

    /** The API key the cage holds (the gateway's placeholder), once {@link #attachment} gave it one. */
    public Optional<PlaceholderKey> placeholderInCage() {
        return placeholderInCage ? Optional.of(placeholder) : Optional.empty();
    }

    /** The placeholder the API and git gateways accept: what a standalone gateway's clients must hold. */
    public PlaceholderKey placeholder() {
        return placeholder;
    }

    /** Stops everything in reverse order, as far as it can, and reports every failure. */
    @Override
    public void close() {
        started.close();
    }
}
