package dev.claudecage.cli;

import dev.claudecage.config.CageConfig;
import dev.claudecage.config.ConfigLoader;
import dev.claudecage.config.HostFacts;
import dev.claudecage.kube.KubeFiles;
import dev.claudecage.kube.KubeRequest;
import dev.claudecage.net.gateway.ApiCredential;
import dev.claudecage.net.gateway.PlaceholderKey;
import dev.claudecage.process.ProcessRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** gateway serve's command line, and the one kube generate writes into the gateway's Deployment. */
class GatewayServeTest {

    @TempDir
    Path dir;

    private ConfigLoader loader(Path systemFile) {
        return new ConfigLoader(systemFile, dir.resolve("missing-user.yaml"), Map.of(),
                new HostFacts(4, false, Optional.empty(), List.of()), dir);
    }

    private Context context(ConfigLoader loader) {
        return new Context(new ProcessRunner(false), () -> loader, () -> {
            throw new AssertionError("gateway serve's checks read no state");
        });
    }

    @SuppressWarnings("unchecked")
    private static <T> T at(Object tree, Object... path) {
        Object node = tree;
        for (Object step : path) {
            node = step instanceof Integer index ? ((List<Object>) node).get(index) : ((Map<String, Object>) node).get(step);
        }
        return (T) node;
    }

    private static String file(List<KubeFiles.Rendered> files, String name) {
        return files.stream().filter(file -> file.name().equals(name)).findFirst().orElseThrow().content();
    }

    @Test
    void theGatewayDeploymentsArgumentsAreGatewayServesAndItsConfigMapCarriesTheCagesEgressPolicy() throws Exception {
        CageConfig cage = loader(dir.resolve("missing-system.yaml")).load(Map.of(
                "allowed_hosts", List.of("api.anthropic.com", "git.corp.test:8443", "*.pythonhosted.org"),
                "resolve", List.of("git.corp.test=10.1.2.3"), "dns", "9.9.9.9", "egress_limit", "5g",
                "max_connections", "16", "wildcard_names_per_minute", "30", "audit_log_limit", "20m")).config();
        PlaceholderKey placeholder = PlaceholderKey.generate();
        List<KubeFiles.Rendered> files = KubeFiles.render(cage, new KubeRequest("claude", "default", "cli:1", "gateway:1",
                "10.96.0.53", "secret", "api-key", ApiCredential.Kind.API_KEY, placeholder, null, null,
                KubeRequest.Crd.POD, false, "amd64"));

        // The ConfigMap, read by the same loader as the system file it becomes in the gateway's container.
        Path system = dir.resolve("config.yaml");
        Files.writeString(system, (String) at(new Yaml().load(file(files, "10-gateway-config.yaml")), "data", "config.yaml"));
        CageConfig gateway = loader(system).load(Map.of()).config();
        assertEquals(cage.allowedHosts(), gateway.allowedHosts());
        assertEquals(cage.dns(), gateway.dns());
        assertEquals(cage.egress().resolve(), gateway.egress().resolve());
        assertEquals(cage.egress().egressLimitBytes(), gateway.egress().egressLimitBytes());
        assertEquals(cage.egress().maxConnections(), gateway.egress().maxConnections());
        assertEquals(cage.egress().wildcardNamesPerMinute(), gateway.egress().wildcardNamesPerMinute());
        assertEquals(cage.egress().auditLogLimitBytes(), gateway.egress().auditLogLimitBytes());
        assertEquals(cage.egress().apiUpstream(), gateway.egress().apiUpstream());

        // The Deployment's arguments, parsed as the gateway's entrypoint parses them.
        List<String> args = at(new Yaml().load(file(files, "11-gateway-deployment.yaml")),
                "spec", "template", "spec", "containers", 0, "args");
        CommandLine.ParseResult parsed = Main.commandLine(context(loader(system)), args.toArray(String[]::new))
                .parseArgs(args.toArray(String[]::new));
        GatewayCommand.Serve serve = (GatewayCommand.Serve) parsed.subcommand().subcommand().commandSpec().userObject();
        assertEquals(List.of("0.0.0.0"), serve.listen);
        assertEquals("10.96.0.53", serve.answer);
        assertEquals(List.of(5353, 8880, 8443, 3128, 8080, 8081),
                List.of(serve.dnsPort, serve.httpPort, serve.httpsPort, serve.proxyPort, serve.apiPort, serve.gitPort));
        assertEquals(placeholder.value(), serve.placeholder.placeholder, "the gateway accepts the key the agent holds");
        assertTrue(file(files, "30-agent-pod.yaml").contains(placeholder.value()));
    }

    private int serve(StringWriter err, String... args) {
        List<String> all = new java.util.ArrayList<>(List.of("gateway", "serve"));
        all.addAll(List.of(args));
        return Main.commandLine(context(loader(dir.resolve("missing-system.yaml"))), all.toArray(String[]::new))
                .setExecutionExceptionHandler(new ErrorHandler()).setErr(new PrintWriter(err))
                .execute(all.toArray(String[]::new));
    }

    @Test
    void aWildcardListenAddressNeedsTheAddressTheDnsStubAnswers() {
        StringWriter err = new StringWriter();
        assertEquals(2, serve(err, "--listen", "0.0.0.0", "--audit-log", dir.resolve("audit.log").toString()));
        assertTrue(err.toString().contains("add --answer IPV4"), err.toString());
    }

    @Test
    void addressesAreGivenAsAddressesNotNamesTheGatewayWouldLookUp() {
        StringWriter err = new StringWriter();
        assertEquals(2, serve(err, "--listen", "gateway.example", "--audit-log", dir.resolve("audit.log").toString()));
        assertTrue(err.toString().contains("--listen takes an IP address, not a name: 'gateway.example'"), err.toString());
    }

    @Test
    void aGatewayServesOnlyAFilteredNetwork() {
        StringWriter err = new StringWriter();
        assertEquals(2, serve(err, "--listen", "127.0.0.1", "--network", "host", "--audit-log",
                dir.resolve("audit.log").toString()));
        assertTrue(err.toString().contains("a gateway serves a filtered network"), err.toString());
    }
}
