package dev.claudecage.cli;

import dev.claudecage.UserInputException;
import dev.claudecage.config.CageConfig;
import dev.claudecage.config.EffectiveConfig;
import dev.claudecage.config.NetworkMode;
import dev.claudecage.net.cage.CageNetworking;
import dev.claudecage.net.cage.GatewayPorts;
import dev.claudecage.net.gateway.ApiCredential;
import dev.claudecage.net.gateway.PlaceholderKey;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

@Command(name = "gateway", description = "A filtered cage's network services without the cage: serve.",
        subcommands = GatewayCommand.Serve.class)
final class GatewayCommand extends CommandGroup {

    @Command(name = "serve",
            description = {"Runs the egress proxy, the DNS stub, the API gateway and the git gateway of a filtered cage "
                    + "as one process, on the addresses given, with the configuration's policy, limits and audit log: "
                    + "what a cluster runs beside its agents (docs/kubernetes.md), or a cage on this host reaches "
                    + "with --network gateway:ADDRESS.",
                    "Nothing here walls the clients in: what may reach these ports is the network's to decide "
                            + "(a NetworkPolicy, a cage's firewall). It runs until it is stopped (SIGTERM, Ctrl-C)."},
            sortOptions = false)
    static final class Serve extends BaseCommand {

        private static final Duration STOP_TIMEOUT = Duration.ofSeconds(20);

        @Option(names = "--listen", paramLabel = "ADDRESS", required = true,
                description = "An address every service listens on, e.g. 0.0.0.0 or 10.0.0.1. Repeatable.")
        List<String> listen = new ArrayList<>();

        @Option(names = "--answer", paramLabel = "IPV4[,IPV6]",
                description = "What the DNS stub answers for an allowed name: the address the clients reach this "
                        + "gateway at (a Service's address), where the transparent listeners take the connection. "
                        + "Default: the --listen address, when there is one and it is not a wildcard.")
        String answer;

        @Option(names = "--dns-port", paramLabel = "PORT", defaultValue = "53", description = "Default: ${DEFAULT-VALUE}.")
        int dnsPort;

        @Option(names = "--http-port", paramLabel = "PORT", defaultValue = "80",
                description = "The transparent listener for plain HTTP. Default: ${DEFAULT-VALUE}.")
        int httpPort;

        @Option(names = "--https-port", paramLabel = "PORT", defaultValue = "443",
                description = "The transparent listener for TLS. Default: ${DEFAULT-VALUE}.")
        int httpsPort;

        @Option(names = "--proxy-port", paramLabel = "PORT", defaultValue = "3128",
                description = "The explicit proxy (HTTPS_PROXY). Default: ${DEFAULT-VALUE}.")
        int proxyPort;

        @Option(names = "--api-port", paramLabel = "PORT", defaultValue = "8080",
                description = "The API gateway (ANTHROPIC_BASE_URL). Default: ${DEFAULT-VALUE}.")
        int apiPort;

        @Option(names = "--git-port", paramLabel = "PORT", defaultValue = "8081",
                description = "The git gateway. Default: ${DEFAULT-VALUE}.")
        int gitPort;

        @Mixin
        PlaceholderOption placeholder;

        @Option(names = "--audit-log", paramLabel = "FILE", required = true,
                description = "Where the audit trail goes (appended, one JSON line per event).")
        Path auditLog;

        @Option(names = "--state-dir", paramLabel = "DIR",
                description = "A private folder for the gateway's files, made at start and removed at the end. "
                        + "Default: one under java.io.tmpdir.")
        Path stateDir;

        @Mixin
        CageOptions options;

        @Mixin
        ApiKeys apiKey;

        @Override
        public Integer call() throws InterruptedException {
            EffectiveConfig effective = context.configLoader().load(options.asFlags());
            CageConfig config = effective.config();
            if (config.network() != NetworkMode.FILTERED) {
                throw new UserInputException("a gateway serves a filtered network; the configuration says network: "
                        + config.network().yamlWord() + " (from " + effective.origin(dev.claudecage.config.ConfigKey.NETWORK) + ")",
                        "leave out --network, or give --network filtered");
            }
            List<InetAddress> binds = listen.stream().map(address -> literal(address, "--listen")).toList();
            Answer answers = answers(binds);
            GatewayPorts ports = new GatewayPorts(dnsPort, httpPort, httpsPort, proxyPort, apiPort, gitPort);
            ApiCredential credential = ApiKeys.fromFlagOrHost(apiKey.flag);
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            ApiKeys.warnWithoutKey(credential, config, err);
            Path state = stateDir != null ? stateDir
                    : Path.of(System.getProperty("java.io.tmpdir"), "claude-cage-gateway-" + ProcessHandle.current().pid());
            Optional<PlaceholderKey> givenPlaceholder = placeholder.given();
            CageNetworking.Options networkOptions = new CageNetworking.Options(credential, auditLog, state, null,
                    givenPlaceholder.orElse(null));
            CountDownLatch stopped = new CountDownLatch(1);
            CountDownLatch closed = new CountDownLatch(1);
            try (CageNetworking gateway = CageNetworking.serve(config, networkOptions,
                    new CageNetworking.Standalone(binds, ports, answers.ipv4(), answers.ipv6()), context.runner())) {
                // On SIGTERM the JVM ends once its hooks return: this one waits until the services are stopped
                // and the audit log closed.
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    stopped.countDown();
                    try {
                        closed.await(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }, "gateway-stop"));
                GatewayPorts.Services services = gateway.services();
                out.println("claude-cage gateway: listening on " + String.join(", ", listen) + ": dns " + dnsPort
                        + ", proxy " + proxyPort + ", http " + httpPort + ", https " + httpsPort
                        + (services.apiGateway() ? ", api " + apiPort : " (no API gateway: no credential)")
                        + (services.gitGateway() ? ", git " + gitPort : ""));
                if (givenPlaceholder.isEmpty() && services.apiGateway()) {
                    out.println("claude-cage gateway: the clients' placeholder key is " + gateway.placeholder().value());
                }
                out.flush();
                stopped.await();
            } finally {
                closed.countDown();
            }
            return 0;
        }

        private record Answer(Inet4Address ipv4, Inet6Address ipv6) {
        }

        private Answer answers(List<InetAddress> binds) {
            List<InetAddress> given;
            if (answer != null) {
                given = java.util.Arrays.stream(answer.split(",")).map(address -> literal(address.strip(), "--answer")).toList();
            } else if (binds.size() == 1 && !binds.get(0).isAnyLocalAddress()) {
                given = binds;
            } else {
                throw new UserInputException("the DNS stub needs to know what address its clients reach this gateway at",
                        "add --answer IPV4 (the Service's or the link's address)");
            }
            Inet4Address ipv4 = null;
            Inet6Address ipv6 = null;
            for (InetAddress address : given) {
                if (address instanceof Inet4Address four && ipv4 == null) {
                    ipv4 = four;
                } else if (address instanceof Inet6Address six && ipv6 == null) {
                    ipv6 = six;
                } else {
                    throw new UserInputException("--answer takes one IPv4 address and at most one IPv6 address: " + answer,
                            "e.g. --answer 10.96.0.53");
                }
            }
            if (ipv4 == null) {
                throw new UserInputException("--answer needs an IPv4 address: " + answer, "e.g. --answer 10.96.0.53");
            }
            return new Answer(ipv4, ipv6);
        }

        /** An IP address as written: a name here would be looked up, and the gateway resolves nothing for itself. */
        private static InetAddress literal(String address, String flag) {
            if (!address.matches("[0-9.]+|[0-9a-fA-F:]*:[0-9a-fA-F:.]*")) {
                throw new UserInputException(flag + " takes an IP address, not a name: '" + address + "'",
                        "e.g. " + flag + " 0.0.0.0");
            }
            try {
                return InetAddress.getByName(address);
            } catch (UnknownHostException e) {
                throw new UserInputException(flag + " takes an IP address: '" + address + "' is none", "e.g. " + flag + " 10.0.0.1");
            }
        }
    }
}
