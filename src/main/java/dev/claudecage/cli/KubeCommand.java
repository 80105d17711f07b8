package dev.claudecage.cli;

import dev.claudecage.UserInputException;
import dev.claudecage.config.CageConfig;
import dev.claudecage.kube.KubeFiles;
import dev.claudecage.kube.KubeRequest;
import dev.claudecage.net.gateway.ApiCredential;
import dev.claudecage.net.gateway.PlaceholderKey;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

@Command(name = "kube", description = "The same cage on Kubernetes: generate.", subcommands = KubeCommand.Generate.class)
final class KubeCommand extends CommandGroup {

    @Command(name = "generate",
            description = {"Writes the manifests of one agent in a cluster from the configuration, as run would start "
                    + "it: the agent's Pod (or agent-sandbox Sandbox), the gateway's Deployment, Service and policy, "
                    + "the NetworkPolicies that leave the agent only the gateway, and the seccomp profile for the nodes.",
                    "Then: kubectl apply -f DIR (docs/kubernetes.md, which also says what a cluster cannot enforce)."},
            sortOptions = false)
    static final class Generate extends BaseCommand {

        @Option(names = "--name", paramLabel = "NAME", defaultValue = "claude",
                description = "The agent's name; everything made for it starts with it. Default: ${DEFAULT-VALUE}.")
        String name;

        @Option(names = "--namespace", paramLabel = "NAMESPACE", defaultValue = "default",
                description = "The namespace everything goes in. Default: ${DEFAULT-VALUE}.")
        String namespace;

        @Option(names = {"-o", "--output"}, paramLabel = "DIR", defaultValue = "claude-cage-kube",
                description = "The folder the files go in (made if missing; files there of the same name are "
                        + "replaced). Default: ${DEFAULT-VALUE}.")
        Path output;

        @Option(names = "--agent-image", paramLabel = "REF", defaultValue = "claude-cage-cli:latest",
                description = "The agent's image as the nodes pull it (claude-cage build cli, then image save and push). "
                        + "Default: ${DEFAULT-VALUE}.")
        String agentImage;

        @Option(names = "--gateway-image", paramLabel = "REF", defaultValue = "claude-cage-gateway:latest",
                description = "The gateway's image as the nodes pull it (claude-cage build gateway). Default: ${DEFAULT-VALUE}.")
        String gatewayImage;

        @Option(names = "--gateway-ip", paramLabel = "ADDRESS", defaultValue = "10.96.0.53",
                description = "The gateway Service's cluster IP, which the agent uses as its nameserver: an unused "
                        + "address in the cluster's service range. Default: ${DEFAULT-VALUE} (kubeadm's range).")
        String gatewayIp;

        @Option(names = "--api-key-secret", paramLabel = "NAME[:KEY]", defaultValue = "claude-cage-api-key:api-key",
                description = "The Secret (and its key) that holds your credential; only the gateway reads it. "
                        + "Default: ${DEFAULT-VALUE}.")
        String secret;

        @Option(names = "--credential", paramLabel = "api-key|oauth-token", defaultValue = "api-key",
                description = "What the Secret holds: an API key, or a Claude subscription token "
                        + "(claude setup-token). Default: ${DEFAULT-VALUE}.")
        String credential;

        @Mixin
        PlaceholderOption placeholder;

        @Option(names = "--runtime-class", paramLabel = "NAME",
                description = "The RuntimeClass the agent runs on, e.g. gvisor or kata. Default: the cluster's.")
        String runtimeClass;

        @Option(names = "--gvisor", description = "The same as --runtime-class gvisor.")
        boolean gvisor;

        @Option(names = "--apparmor", paramLabel = "PROFILE",
                description = "The AppArmor profile loaded on the nodes that the agent runs under, e.g. claude-cage "
                        + "(security/apparmor-profile). Default: none.")
        String appArmor;

        @Option(names = "--crd", paramLabel = "agent-sandbox",
                description = "Declare the agent as a Sandbox of kubernetes-sigs/agent-sandbox instead of a Pod.")
        String crd;

        @Option(names = "--seccomp-operator",
                description = "Also write a security-profiles-operator SeccompProfile, and point the agent at the "
                        + "profile the operator installs, instead of a file you place on every node.")
        boolean seccompOperator;

        @Option(names = "--node-arch", paramLabel = "ARCH", defaultValue = "amd64",
                description = "The nodes' architecture, as Java names it (amd64, aarch64). Default: ${DEFAULT-VALUE}.")
        String nodeArch;

        @Mixin
        CageOptions options;

        @Override
        public Integer call() {
            CageConfig config = context.configLoader().load(options.asFlags()).config();
            List<Path> written = KubeFiles.write(config, request(), output);
            PrintWriter out = spec.commandLine().getOut();
            written.forEach(path -> out.println("wrote " + path));
            out.println("next: place " + output.resolve("seccomp") + "/* under each node's /var/lib/kubelet/seccomp/ "
                    + (seccompOperator ? "(or let the security-profiles-operator do it) " : "")
                    + "and run kubectl apply -f " + output + " (docs/kubernetes.md)");
            out.flush();
            return 0;
        }

        private KubeRequest request() {
            if (!name.matches("[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?")) {
                throw new UserInputException("--name '" + name + "' is no Kubernetes name",
                        "use lower-case letters, digits and '-', at most 42 characters, e.g. --name claude");
            }
            String[] secretParts = secret.split(":", 2);
            ApiCredential.Kind kind = switch (credential.toLowerCase(Locale.ROOT)) {
                case "api-key" -> ApiCredential.Kind.API_KEY;
                case "oauth-token" -> ApiCredential.Kind.OAUTH_TOKEN;
                default -> throw new UserInputException("--credential '" + credential + "' is neither api-key nor "
                        + "oauth-token", "use --credential api-key or --credential oauth-token");
            };
            KubeRequest.Crd kindOfPod;
            if (crd == null) {
                kindOfPod = KubeRequest.Crd.POD;
            } else if (crd.equals("agent-sandbox")) {
                kindOfPod = KubeRequest.Crd.AGENT_SANDBOX;
            } else {
                throw new UserInputException("--crd '" + crd + "' is not one claude-cage knows", "use --crd agent-sandbox");
            }
            if (gvisor && runtimeClass != null && !runtimeClass.equals("gvisor")) {
                throw new UserInputException("--gvisor and --runtime-class " + runtimeClass + " ask for two runtimes",
                        "give one of them");
            }
            PlaceholderKey key = placeholder.given().orElseGet(PlaceholderKey::generate);
            return new KubeRequest(name, namespace, agentImage, gatewayImage,
                    gatewayIp, secretParts[0], secretParts.length > 1 ? secretParts[1] : "api-key", kind, key,
                    gvisor ? "gvisor" : runtimeClass, appArmor, kindOfPod, seccompOperator, nodeArch);
        }
    }
}
