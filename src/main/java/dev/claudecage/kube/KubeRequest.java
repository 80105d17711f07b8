package dev.claudecage.kube;

import dev.claudecage.net.gateway.ApiCredential;
import dev.claudecage.net.gateway.PlaceholderKey;

import java.util.Objects;

/**
 * What {@code kube generate} needs beyond the cage's configuration: names, images and the cluster's
 * choices. Every field is the user's to give; the defaults live in the command.
 *
 * @param name            the agent's name: the Pod (or Sandbox), and the prefix of everything made for it
 * @param namespace       the namespace everything goes in
 * @param agentImage      the agent's image, as the cluster's nodes pull it
 * @param gatewayImage    the gateway's image ({@code claude-cage build gateway}, pushed where the nodes pull)
 * @param gatewayAddress  the gateway Service's cluster IP: the agent's nameserver must be an address, so the
 *                        Service gets this one (it must lie in the cluster's service range)
 * @param secretName      the Secret that holds the real credential, which only the gateway reads
 * @param secretKey       the key of the credential in that Secret
 * @param credentialKind  an API key or a Claude subscription token: which variable carries it
 * @param placeholder     the key the agent holds in place of the real one
 * @param runtimeClass    the RuntimeClass the agent runs on (gvisor, kata), or null for the cluster's default
 * @param appArmorProfile the AppArmor profile loaded on the nodes (localhost), or null for none
 * @param crd             a plain Pod, or a Sandbox of kubernetes-sigs/agent-sandbox
 * @param seccompOperator whether a security-profiles-operator SeccompProfile carries the profile to the nodes
 * @param nodeArch        the nodes' architecture (os.arch: amd64, aarch64), which the seccomp profile names
 */
public record KubeRequest(String name, String namespace, String agentImage, String gatewayImage, String gatewayAddress,
                          String secretName, String secretKey, ApiCredential.Kind credentialKind,
                          PlaceholderKey placeholder, String runtimeClass, String appArmorProfile, Crd crd,
                          boolean seccompOperator, String nodeArch) {

    /** How the agent's pod is declared. */
    public enum Crd {
        POD,
        AGENT_SANDBOX
    }

    public KubeRequest {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(agentImage, "agentImage");
        Objects.requireNonNull(gatewayImage, "gatewayImage");
        Objects.requireNonNull(gatewayAddress, "gatewayAddress");
        Objects.requireNonNull(secretName, "secretName");
        Objects.requireNonNull(secretKey, "secretKey");
        Objects.requireNonNull(credentialKind, "credentialKind");
        Objects.requireNonNull(placeholder, "placeholder");
        Objects.requireNonNull(crd, "crd");
        Objects.requireNonNull(nodeArch, "nodeArch");
    }
}
