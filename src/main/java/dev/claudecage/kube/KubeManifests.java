package dev.claudecage.kube;

import dev.claudecage.UserInputException;
import dev.claudecage.config.CageConfig;
import dev.claudecage.config.ConfigKey;
import dev.claudecage.config.NetworkMode;
import dev.claudecage.config.Sizes;
import dev.claudecage.json.Json;
import dev.claudecage.net.cage.CageNetworking;
import dev.claudecage.net.cage.GatewayPorts;
import dev.claudecage.security.SeccompPolicy;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.ContainerPortBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeerBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPortBuilder;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The manifests of one agent in a cluster, a pure function of the cage's configuration and a
 * {@link KubeRequest}: the agent's Pod (or agent-sandbox Sandbox), the gateway's ConfigMap,
 * Deployment and Service, the NetworkPolicies that leave the agent only the gateway, and the seccomp
 * profile for the nodes. Built from fabric8's model classes, so a field name cannot be misspelt.
 */
public final class KubeManifests {

    /** Where the agent finds the gateway: the Service's ports, the cage's standard ones. */
    public static final GatewayPorts SERVICE_PORTS = GatewayPorts.STANDARD;
    /**
     * Where the gateway's container listens: unprivileged ports, so that it needs no capability. The
     * Service maps the standard ports onto them; a NetworkPolicy names these (it sees the pod's ports).
     */
    public static final GatewayPorts CONTAINER_PORTS = new GatewayPorts(5353, 8880, 8443, 3128, 8080, 8081);
    /** The kubelet reads a Localhost profile relative to its seccomp root (/var/lib/kubelet/seccomp). */
    public static final String SECCOMP_FILE = "claude-cage/seccomp.json";
    static final String AGENT_CONTAINER = "agent";
    static final String GATEWAY_CONTAINER = "gateway";
    private static final String HOME = "/home/claude";
    private static final String GATEWAY_CONFIG_DIR = "/etc/claude-cage";
    private static final String GATEWAY_AUDIT_DIR = "/var/log/claude-cage";
    /** The gateway's own user: not the agent's, so that nothing of one is the other's. */
    private static final long GATEWAY_UID = 10001;

    /** One generated file: a manifest, or the seccomp profile's JSON for the nodes. */
    public record GeneratedFile(String name, HasMetadata resource, String text) {
        static GeneratedFile manifest(String name, HasMetadata resource) {
            return new GeneratedFile(name, resource, null);
        }
    }

    private final CageConfig config;
    private final KubeRequest request;

    private KubeManifests(CageConfig config, KubeRequest request) {
        this.config = config;
        this.request = request;
    }

    /** Every file, in the order kubectl apply -f DIR takes them (by name). */
    public static List<GeneratedFile> generate(CageConfig config, KubeRequest request) {
        return of(config, request).files();
    }

    /** The generator for one agent, once the configuration is one a cluster can carry. */
    static KubeManifests of(CageConfig config, KubeRequest request) {
        if (config.network() != NetworkMode.FILTERED) {
            throw new UserInputException("kube generate makes a filtered agent (its only way out is the gateway); the "
                    + "configuration says network: " + config.network().yamlWord(), "leave out --network, or give --network filtered");
        }
        if (!config.egress().credentials().git().isEmpty() || config.egress().credentials().sshAgent()) {
            throw new UserInputException("kube generate does not carry git_credentials or ssh_agent into a cluster yet: "
                    + "their tokens and agent live on this host", "leave them out (--git-credential, --ssh-agent) for "
                    + "the manifests; docs/kubernetes.md says what is not carried over");
        }
        return new KubeManifests(config, request);
    }

    private List<GeneratedFile> files() {
        List<GeneratedFile> files = new ArrayList<>();
        files.add(GeneratedFile.manifest("10-gateway-config.yaml", gatewayConfig()));
        files.add(GeneratedFile.manifest("11-gateway-deployment.yaml", gatewayDeployment()));
        files.add(GeneratedFile.manifest("12-gateway-service.yaml", gatewayService()));
        files.add(GeneratedFile.manifest("20-agent-network-policy.yaml", agentNetworkPolicy()));
        files.add(GeneratedFile.manifest("21-gateway-network-policy.yaml", gatewayNetworkPolicy()));
        if (request.seccompOperator()) {
            files.add(GeneratedFile.manifest("05-seccomp-profile.yaml", seccompProfileResource()));
        }
        files.add(request.crd() == KubeRequest.Crd.AGENT_SANDBOX
                ? GeneratedFile.manifest("30-agent-sandbox.yaml", agentSandbox())
                : GeneratedFile.manifest("30-agent-pod.yaml", agentPod()));
        files.add(new GeneratedFile("seccomp/" + SECCOMP_FILE, null, seccompJson()));
        files.sort(java.util.Comparator.comparing(GeneratedFile::name));
        return List.copyOf(files);
    }

    // ---- the agent ----

    Pod agentPod() {
        return new PodBuilder().withMetadata(metadata(request.name(), agentLabels())).withSpec(agentPodSpec()).build();
    }

    /** A Sandbox of kubernetes-sigs/agent-sandbox (agents.x-k8s.io/v1alpha1): the same pod, as its template. */
    GenericKubernetesResource agentSandbox() {
        Map<String, Object> template = new LinkedHashMap<>();
        template.put("metadata", Map.of("labels", agentLabels()));
        template.put("spec", KubeYaml.tree(agentPodSpec()));
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("podTemplate", template);
        return new GenericKubernetesResourceBuilder().withApiVersion("agents.x-k8s.io/v1alpha1").withKind("Sandbox")
                .withMetadata(metadata(request.name(), agentLabels())).withAdditionalProperties(Map.of("spec", spec))
                .build();
    }

    private PodSpec agentPodSpec() {
        String gateway = request.gatewayAddress();
        List<EnvVar> env = new ArrayList<>();
        List<String> variables = new ArrayList<>(CageNetworking.proxyEnvironment(gateway, null, SERVICE_PORTS));
        variables.addAll(CageNetworking.apiEnvironment(gateway, SERVICE_PORTS, request.credentialKind(),
                request.placeholder()));
        variables.add("HOME=" + HOME);
        variables.addAll(config.env());
        for (String variable : variables) {
            int equals = variable.indexOf('=');
            env.add(new EnvVarBuilder().withName(variable.substring(0, equals)).withValue(variable.substring(equals + 1))
                    .build());
        }
        Map<String, Quantity> limits = new LinkedHashMap<>();
        limits.put("cpu", new Quantity(BigDecimal.valueOf(config.cpus()).stripTrailingZeros().toPlainString()));
        limits.put("memory", bytes(config.memoryBytes()));
        Container agent = new ContainerBuilder().withName(AGENT_CONTAINER).withImage(request.agentImage())
                .withImagePullPolicy("IfNotPresent").withStdin(true).withTty(true).withEnv(env)
                .withNewResources().withLimits(limits).withRequests(limits).endResources()
                .withSecurityContext(agentSecurityContext())
                .withVolumeMounts(mount("tmp", "/tmp"), mount("home", HOME), mount("workspace", "/workspace"))
                .withWorkingDir("/workspace")
                .build();
        Quantity tmpfs = bytes(config.tmpfsBytes());
        return new PodSpecBuilder()
                .withRestartPolicy("Never")
                .withAutomountServiceAccountToken(false)
                .withEnableServiceLinks(false)
                .withHostUsers(false)
                .withRuntimeClassName(request.runtimeClass())
                .withDnsPolicy("None")
                .withNewDnsConfig().withNameservers(gateway)
                .addNewOption().withName("ndots").withValue("1").endOption()
                .addNewOption().withName("timeout").withValue("2").endOption()
                .addNewOption().withName("attempts").withValue("2").endOption()
                .endDnsConfig()
                .withNewSecurityContext().withRunAsUser((long) config.uid()).withRunAsGroup((long) config.gid())
                .withRunAsNonRoot(true).withFsGroup((long) config.gid()).endSecurityContext()
                .withContainers(agent)
                .withVolumes(memoryVolume("tmp", tmpfs), memoryVolume("home", tmpfs),
                        new VolumeBuilder().withName("workspace").withNewEmptyDir().endEmptyDir().build())
                .build();
    }

    private SecurityContext agentSecurityContext() {
        SecurityContextBuilder context = new SecurityContextBuilder()
                .withRunAsUser((long) config.uid()).withRunAsGroup((long) config.gid()).withRunAsNonRoot(true)
                .withReadOnlyRootFilesystem(config.readOnlyRoot()).withAllowPrivilegeEscalation(false)
                .withPrivileged(false).withNewCapabilities().withDrop("ALL").endCapabilities()
                .withNewSeccompProfile().withType("Localhost").withLocalhostProfile(localhostProfile()).endSeccompProfile();
        if (request.appArmorProfile() != null) {
            context.withNewAppArmorProfile().withType("Localhost").withLocalhostProfile(request.appArmorProfile())
                    .endAppArmorProfile();
        }
        return context.build();
    }

    /** The kubelet's path of the profile: our file, or where the security-profiles-operator installs it. */
    private String localhostProfile() {
        return request.seccompOperator()
                ? "operator/" + request.namespace() + "/" + seccompProfileName() + ".json"
                : SECCOMP_FILE;
    }

    // ---- the gateway ----

    /** The gateway's policy: the egress part of the cage's configuration, read as the system file. */
    ConfigMap gatewayConfig() {
        Map<String, Object> yaml = new LinkedHashMap<>();
        yaml.put(ConfigKey.NETWORK.yamlName(), NetworkMode.FILTERED.yamlWord());
        yaml.put(ConfigKey.DNS.yamlName(), config.dns());
        yaml.put(ConfigKey.ALLOWED_HOSTS.yamlName(), config.allowedHosts());
        List<String> resolve = new ArrayList<>();
        config.egress().resolve().forEach((name, addresses) -> addresses.forEach(address -> resolve.add(name + "=" + address)));
        yaml.put(ConfigKey.RESOLVE.yamlName(), resolve);
        yaml.put(ConfigKey.EGRESS_LIMIT.yamlName(), Sizes.format(config.egress().egressLimitBytes()));
        yaml.put(ConfigKey.MAX_CONNECTIONS.yamlName(), config.egress().maxConnections());
        yaml.put(ConfigKey.AUDIT_LOG_LIMIT.yamlName(), Sizes.format(config.egress().auditLogLimitBytes()));
        yaml.put(ConfigKey.WILDCARD_NAMES_PER_MINUTE.yamlName(), config.egress().wildcardNamesPerMinute());
        yaml.put(ConfigKey.API_UPSTREAM.yamlName(), config.egress().apiUpstream().toString());
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        String text = "# The gateway's policy, generated by claude-cage kube generate from the cage's configuration.\n"
                + new Yaml(options).dump(yaml);
        return new ConfigMapBuilder().withMetadata(metadata(gatewayName(), gatewayLabels()))
                .withData(Map.of("config.yaml", text)).build();
    }

    Deployment gatewayDeployment() {
        GatewayPorts ports = CONTAINER_PORTS;
        List<String> args = List.of("gateway", "serve", "--listen", "0.0.0.0", "--answer", request.gatewayAddress(),
                "--dns-port", Integer.toString(ports.dns()), "--http-port", Integer.toString(ports.http()),
                "--https-port", Integer.toString(ports.https()), "--proxy-port", Integer.toString(ports.proxy()),
                "--api-port", Integer.toString(ports.apiGateway()), "--git-port", Integer.toString(ports.gitGateway()),
                "--placeholder", request.placeholder().value(), "--audit-log", GATEWAY_AUDIT_DIR + "/audit.log",
                "--state-dir", "/tmp/gateway");
        List<ContainerPort> containerPorts = new ArrayList<>();
        for (PortMapping port : portMappings()) {
            containerPorts.add(new ContainerPortBuilder().withName(port.name()).withContainerPort(port.target())
                    .withProtocol(port.protocol()).build());
        }
        Container gateway = new ContainerBuilder().withName(GATEWAY_CONTAINER).withImage(request.gatewayImage())
                .withImagePullPolicy("IfNotPresent").withArgs(args)
                .withEnv(new EnvVarBuilder().withName(request.credentialKind().cageVariable()).withNewValueFrom()
                        .withNewSecretKeyRef().withName(request.secretName()).withKey(request.secretKey())
                        .endSecretKeyRef().endValueFrom().build(),
                        new EnvVarBuilder().withName("HOME").withValue("/tmp").build())
                .withPorts(containerPorts)
                .withNewReadinessProbe().withNewTcpSocket().withPort(new IntOrString(ports.proxy())).endTcpSocket()
                .endReadinessProbe()
                .withNewResources().addToRequests("cpu", new Quantity("100m")).addToRequests("memory", new Quantity("256Mi"))
                .addToLimits("memory", new Quantity("512Mi")).endResources()
                .withNewSecurityContext().withRunAsUser(GATEWAY_UID).withRunAsGroup(GATEWAY_UID).withRunAsNonRoot(true)
                .withReadOnlyRootFilesystem(true).withAllowPrivilegeEscalation(false).withPrivileged(false)
                .withNewCapabilities().withDrop("ALL").endCapabilities()
                .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile().endSecurityContext()
                .withVolumeMounts(readOnlyMount("config", GATEWAY_CONFIG_DIR), mount("tmp", "/tmp"),
                        mount("audit", GATEWAY_AUDIT_DIR))
                .build();
        return new DeploymentBuilder().withMetadata(metadata(gatewayName(), gatewayLabels()))
                .withNewSpec().withReplicas(1).withNewSelector().withMatchLabels(gatewayLabels()).endSelector()
                .withNewStrategy().withType("Recreate").endStrategy()
                .withNewTemplate().withNewMetadata().withLabels(gatewayLabels()).endMetadata()
                .withNewSpec().withAutomountServiceAccountToken(false).withEnableServiceLinks(false).withHostUsers(false)
                .withContainers(gateway)
                .withVolumes(new VolumeBuilder().withName("config").withNewConfigMap().withName(gatewayName())
                                .endConfigMap().build(),
                        new VolumeBuilder().withName("tmp").withNewEmptyDir().endEmptyDir().build(),
                        new VolumeBuilder().withName("audit").withNewEmptyDir().endEmptyDir().build())
                .endSpec().endTemplate().endSpec().build();
    }

    Service gatewayService() {
        List<ServicePort> ports = new ArrayList<>();
        for (PortMapping port : portMappings()) {
            ports.add(new ServicePortBuilder().withName(port.name()).withProtocol(port.protocol()).withPort(port.service())
                    .withTargetPort(new IntOrString(port.target())).build());
        }
        return new ServiceBuilder().withMetadata(metadata(gatewayName(), gatewayLabels()))
                .withNewSpec().withType("ClusterIP").withClusterIP(request.gatewayAddress()).withSelector(gatewayLabels())
                .withPorts(ports).endSpec().build();
    }

    /** One port of the gateway: its name, the Service's port, the container's, and the protocol. */
    record PortMapping(String name, int service, int target, String protocol) {
    }

    /** The gateway's ports that run: the API gateway does (the Secret holds its credential), the git gateway not yet. */
    static List<PortMapping> portMappings() {
        GatewayPorts service = SERVICE_PORTS;
        GatewayPorts target = CONTAINER_PORTS;
        return List.of(
                new PortMapping("dns-udp", service.dns(), target.dns(), "UDP"),
                new PortMapping("dns-tcp", service.dns(), target.dns(), "TCP"),
                new PortMapping("http", service.http(), target.http(), "TCP"),
                new PortMapping("https", service.https(), target.https(), "TCP"),
                new PortMapping("proxy", service.proxy(), target.proxy(), "TCP"),
                new PortMapping("api", service.apiGateway(), target.apiGateway(), "TCP"));
    }

    // ---- the walls between them ----

    /** The agent may reach the gateway's pods on the gateway's ports, DNS included, and nothing else; nothing reaches it. */
    NetworkPolicy agentNetworkPolicy() {
        return new NetworkPolicyBuilder().withMetadata(metadata(request.name() + "-agent", agentLabels()))
                .withNewSpec().withNewPodSelector().withMatchLabels(agentLabels()).endPodSelector()
                .withPolicyTypes("Ingress", "Egress")
                .addNewEgress().withTo(gatewayPods()).withPorts(gatewayPolicyPorts()).endEgress()
                .endSpec().build();
    }

    /**
     * The gateway takes the agent's connections on its ports and nothing else's; it may reach port 443 anywhere
     * (its allowlist does the rest), the ports of allowed_hosts entries that name one, and its DNS resolver.
     */
    NetworkPolicy gatewayNetworkPolicy() {
        TreeSet<Integer> upstreamPorts = new TreeSet<>(List.of(443));
        config.allowedHosts().forEach(entry -> upstreamPorts.add(dev.claudecage.net.HostRule.parse(entry).port()));
        int apiPort = config.egress().apiUpstream().getPort();
        if (apiPort > 0) {
            upstreamPorts.add(apiPort);
        }
        List<NetworkPolicyPort> upstream = upstreamPorts.stream().map(port -> policyPort(port, "TCP")).toList();
        NetworkPolicyPeer resolver = new NetworkPolicyPeerBuilder().withNewIpBlock()
                .withCidr(config.dns() + (config.dns().contains(":") ? "/128" : "/32")).endIpBlock().build();
        return new NetworkPolicyBuilder().withMetadata(metadata(gatewayName(), gatewayLabels()))
                .withNewSpec().withNewPodSelector().withMatchLabels(gatewayLabels()).endPodSelector()
                .withPolicyTypes("Ingress", "Egress")
                .addNewIngress().withFrom(new NetworkPolicyPeerBuilder().withNewPodSelector().withMatchLabels(agentLabels())
                        .endPodSelector().build()).withPorts(gatewayPolicyPorts()).endIngress()
                // Link-local holds the cloud's metadata service (169.254.169.254): never an upstream of the gateway's.
                .addNewEgress().withTo(new NetworkPolicyPeerBuilder().withNewIpBlock().withCidr("0.0.0.0/0")
                                .withExcept("169.254.0.0/16").endIpBlock().build(),
                        new NetworkPolicyPeerBuilder().withNewIpBlock().withCidr("::/0").withExcept("fe80::/10").endIpBlock()
                                .build())
                .withPorts(upstream).endEgress()
                .addNewEgress().withTo(resolver).withPorts(policyPort(53, "UDP"), policyPort(53, "TCP")).endEgress()
                .endSpec().build();
    }

    private NetworkPolicyPeer gatewayPods() {
        return new NetworkPolicyPeerBuilder().withNewPodSelector().withMatchLabels(gatewayLabels()).endPodSelector().build();
    }

    /** A NetworkPolicy sees the pod's own ports, after the Service's translation: the container's. */
    private static List<NetworkPolicyPort> gatewayPolicyPorts() {
        return portMappings().stream().map(port -> policyPort(port.target(), port.protocol())).toList();
    }

    private static NetworkPolicyPort policyPort(int port, String protocol) {
        return new NetworkPolicyPortBuilder().withProtocol(protocol).withPort(new IntOrString(port)).build();
    }

    // ---- the seccomp profile ----

    private SeccompPolicy policy() {
        return config.seccompProfile().equals("default") ? SeccompPolicy.defaultPolicy()
                : SeccompPolicy.load(java.nio.file.Path.of(config.seccompProfile()));
    }

    /** The profile as the container runtime reads it from the kubelet's seccomp root: the OCI form, as runc gets it. */
    private String seccompJson() {
        return Json.write(policy().toOci(request.nodeArch()));
    }

    private String seccompProfileName() {
        return request.name() + "-seccomp";
    }

    /** The same profile as a security-profiles-operator SeccompProfile, which installs it on every node. */
    GenericKubernetesResource seccompProfileResource() {
        Map<String, Object> spec = Json.mapper().convertValue(policy().toOci(request.nodeArch()),
                new com.fasterxml.jackson.core.type.TypeReference<LinkedHashMap<String, Object>>() { });
        return new GenericKubernetesResourceBuilder().withApiVersion("security-profiles-operator.x-k8s.io/v1beta1")
                .withKind("SeccompProfile").withMetadata(metadata(seccompProfileName(), agentLabels()))
                .withAdditionalProperties(Map.of("spec", spec)).build();
    }

    // ---- names ----

    private String gatewayName() {
        return request.name() + "-gateway";
    }

    private ObjectMeta metadata(String name, Map<String, String> labels) {
        return new ObjectMetaBuilder().withName(name).withNamespace(request.namespace()).withLabels(labels).build();
    }

    Map<String, String> agentLabels() {
        return labels("agent");
    }

    Map<String, String> gatewayLabels() {
        return labels("gateway");
    }

    private Map<String, String> labels(String component) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("app.kubernetes.io/name", "claude-cage");
        labels.put("app.kubernetes.io/instance", request.name());
        labels.put("app.kubernetes.io/component", component);
        return labels;
    }

    private static VolumeMount mount(String volume, String path) {
        return new VolumeMountBuilder().withName(volume).withMountPath(path).build();
    }

    private static VolumeMount readOnlyMount(String volume, String path) {
        return new VolumeMountBuilder().withName(volume).withMountPath(path).withReadOnly(true).build();
    }

    /** A tmpfs: an emptyDir in memory, which counts against the container's memory limit. */
    private static Volume memoryVolume(String name, Quantity size) {
        return new VolumeBuilder().withName(name).withNewEmptyDir().withMedium("Memory")
                .withSizeLimit(size).endEmptyDir().build();
    }

    /** A number of bytes in the largest binary unit that keeps it whole: 4Gi, 1536Ki, 1000. */
    static Quantity bytes(long count) {
        List<String> units = List.of("", "Ki", "Mi", "Gi", "Ti");
        int unit = 0;
        while (unit < units.size() - 1 && count != 0 && count % 1024 == 0) {
            count /= 1024;
            unit++;
        }
        return new Quantity(Long.toString(count), units.get(unit));
    }
}
