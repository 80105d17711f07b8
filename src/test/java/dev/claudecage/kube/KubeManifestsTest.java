package dev.claudecage.kube;

import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.DeserializationConfig;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.BeanDeserializerBuilder;
import com.fasterxml.jackson.databind.deser.BeanDeserializerModifier;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.module.SimpleModule;
import dev.claudecage.config.CageConfig;
import dev.claudecage.config.ConfigLoader;
import dev.claudecage.config.HostFacts;
import dev.claudecage.net.gateway.ApiCredential;
import dev.claudecage.net.gateway.PlaceholderKey;
import dev.claudecage.oci.Spec;
import dev.claudecage.testing.Golden;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The manifests of kube generate: golden files, each read back strictly into fabric8's model. */
class KubeManifestsTest {

    private static final Path GOLDEN = Path.of("kube/golden");
    private static final PlaceholderKey PLACEHOLDER = new PlaceholderKey("sk-ant-cage-" + "0123456789abcdefghijklmnopqrstuv");
    private static final Map<String, Class<?>> KINDS = Map.of("Pod", Pod.class, "Deployment", Deployment.class,
            "Service", Service.class, "ConfigMap", ConfigMap.class, "NetworkPolicy", NetworkPolicy.class);

    static CageConfig config(Map<String, Object> flags) {
        return new ConfigLoader(Path.of("/nonexistent/system.yaml"), Path.of("/nonexistent/user.yaml"), Map.of(),
                new HostFacts(4, false, Optional.empty(), List.of()), Path.of("/")).load(flags).config();
    }

    static KubeRequest request() {
        return new KubeRequest("claude", "default", "registry.example/claude-cage-cli:1", "registry.example/claude-cage-gateway:1",
                "10.96.0.53", "claude-cage-api-key", "api-key", ApiCredential.Kind.API_KEY, PLACEHOLDER, null, null,
                KubeRequest.Crd.POD, false, "amd64");
    }

    /** gVisor, AppArmor, the agent-sandbox Sandbox, the operator's SeccompProfile and a subscription token. */
    static KubeRequest hardenedSandbox() {
        return new KubeRequest("team-a", "agents", "registry.example/claude-cage-cli:1", "registry.example/claude-cage-gateway:1",
                "10.43.0.53", "team-a-login", "token", ApiCredential.Kind.OAUTH_TOKEN, PLACEHOLDER, "gvisor", "claude-cage",
                KubeRequest.Crd.AGENT_SANDBOX, true, "aarch64");
    }

    static final Map<String, Object> WIDER_POLICY = Map.of("allowed_hosts", List.of("api.anthropic.com", "preset:npm",
                    "git.corp.test:8443"), "cpus", "1.5", "memory", "6g", "tmpfs_size", "256m", "egress_limit", "5g",
            "max_connections", "16", "resolve", List.of("git.corp.test=10.1.2.3"), "dns", "9.9.9.9",
            "env", List.of("EDITOR=vi"));

    @Test
    void theDefaultPolicyMatchesItsGoldenFiles() throws IOException {
        assertGolden("default", KubeFiles.render(config(Map.of()), request()));
    }

    @Test
    void aWiderPolicyMatchesItsGoldenFiles() throws IOException {
        assertGolden("wider-policy", KubeFiles.render(config(WIDER_POLICY), request()));
    }

    @Test
    void aHardenedSandboxMatchesItsGoldenFiles() throws IOException {
        assertGolden("hardened-sandbox", KubeFiles.render(config(Map.of()), hardenedSandbox()));
    }

    private static void assertGolden(String variation, List<KubeFiles.Rendered> files) throws IOException {
        Path folder = GOLDEN.resolve(variation);
        for (KubeFiles.Rendered file : files) {
            Golden.assertMatches(folder.resolve(file.name()), file.content());
        }
        if (!Boolean.getBoolean("claudecage.updateGolden")) {
            try (Stream<Path> present = Files.walk(folder)) {
                assertEquals(new TreeSet<>(files.stream().map(KubeFiles.Rendered::name).toList()),
                        new TreeSet<>(present.filter(Files::isRegularFile).map(path -> folder.relativize(path).toString()).toList()),
                        "every golden file of " + variation + " is generated, and nothing else");
            }
        }
    }

    // ---- strict reading ----

    /** Jackson into fabric8's classes with no catch-all: a field the model does not know fails. */
    private static final ObjectMapper STRICT = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true)
            .registerModule(new SimpleModule().setDeserializerModifier(new BeanDeserializerModifier() {
                @Override
                public BeanDeserializerBuilder updateBuilder(DeserializationConfig config, BeanDescription description,
                                                             BeanDeserializerBuilder builder) {
                    // fabric8's classes keep unknown fields in additionalProperties; strictly, there is none.
                    builder.setAnySetter(null);
                    return builder;
                }
            }));

    /** Reads one manifest strictly; returns the object, after checking it writes back to the same tree. */
    static Object readStrictly(String yaml) throws IOException {
        JsonNode tree = STRICT.valueToTree(new Yaml().load(yaml));
        String kind = tree.path("kind").asText();
        Object model;
        if (KINDS.containsKey(kind)) {
            model = STRICT.treeToValue(tree, KINDS.get(kind));
        } else if (kind.equals("Sandbox")) {
            assertEquals("agents.x-k8s.io/v1alpha1", tree.path("apiVersion").asText());
            STRICT.treeToValue(tree.path("metadata"), ObjectMeta.class);
            assertEquals(List.of("podTemplate"), fieldNames(tree.path("spec")));
            assertEquals(List.of("metadata", "spec"), fieldNames(tree.path("spec").path("podTemplate")));
            assertEquals(List.of("labels"), fieldNames(tree.path("spec").path("podTemplate").path("metadata")));
            model = STRICT.treeToValue(tree.path("spec").path("podTemplate").path("spec"), PodSpec.class);
            assertSameJson(tree.path("spec").path("podTemplate").path("spec"), model, "the Sandbox's pod spec");
            return model;
        } else if (kind.equals("SeccompProfile")) {
            assertEquals("security-profiles-operator.x-k8s.io/v1beta1", tree.path("apiVersion").asText());
            STRICT.treeToValue(tree.path("metadata"), ObjectMeta.class);
            model = STRICT.treeToValue(tree.path("spec"), Spec.Seccomp.class);
            return model;
        } else {
            throw new AssertionError("a manifest of an unexpected kind: " + kind);
        }
        assertSameJson(tree, model, "the " + kind);
        return model;
    }

    /** The model writes back to the very text it was read from (numbers compare as written, not by Java type). */
    private static void assertSameJson(JsonNode read, Object model, String what) {
        assertEquals(read.toString(), STRICT.valueToTree(model).toString(), what + " writes back to what was read");
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    @Test
    void everyManifestOfEveryVariationReadsBackStrictly() throws IOException {
        List<List<KubeFiles.Rendered>> variations = List.of(KubeFiles.render(config(Map.of()), request()),
                KubeFiles.render(config(WIDER_POLICY), request()), KubeFiles.render(config(Map.of()), hardenedSandbox()));
        int read = 0;
        for (List<KubeFiles.Rendered> files : variations) {
            for (KubeFiles.Rendered file : files) {
                if (file.name().endsWith(".yaml")) {
                    readStrictly(file.content());
                    read++;
                } else {
                    STRICT.readValue(file.content(), Spec.Seccomp.class);
                }
            }
        }
        assertEquals(6 + 6 + 7, read, "every manifest was read");
    }

    @Test
    void positiveControlAMisspeltFieldFailsTheStrictReading() throws IOException {
        String pod = KubeFiles.render(config(Map.of()), request()).stream()
                .filter(file -> file.name().equals("30-agent-pod.yaml")).findFirst().orElseThrow().content();
        readStrictly(pod);
        assertTrue(pod.contains("runAsNonRoot: true"));
        assertThrows(UnrecognizedPropertyException.class, () -> readStrictly(pod.replace("runAsNonRoot: true",
                "runAsNonRoott: true")), "a misspelt securityContext field is caught");
        assertThrows(UnrecognizedPropertyException.class, () -> readStrictly(pod.replace("hostUsers: false",
                "hostUser: false")), "a misspelt pod field is caught");
        // And the lenient default would have let it pass into additionalProperties.
        Pod lenient = new ObjectMapper().convertValue(new Yaml().load(pod.replace("hostUsers: false", "hostUser: false")),
                Pod.class);
        assertEquals(false, lenient.getSpec().getAdditionalProperties().get("hostUser"));
    }
}
