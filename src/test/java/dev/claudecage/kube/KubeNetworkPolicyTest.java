package dev.claudecage.kube;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyEgressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The agent's NetworkPolicy admits exactly the gateway's ports, to the gateway's pods only, DNS included. */
class KubeNetworkPolicyTest {

    private final KubeManifests manifests = KubeManifests.of(KubeManifestsTest.config(Map.of()), KubeManifestsTest.request());

    /** Port and protocol, as "5353/UDP". */
    private static Set<String> ports(List<io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort> ports) {
        return ports.stream().map(port -> port.getPort().getIntVal() + "/" + port.getProtocol()).collect(Collectors.toSet());
    }

    private static Set<String> serviceTargets(Service service) {
        return service.getSpec().getPorts().stream().map(port -> port.getTargetPort().getIntVal() + "/" + port.getProtocol())
                .collect(Collectors.toSet());
    }

    @Test
    void theAgentMayReachExactlyTheGatewayServicesTargetPortsDnsIncluded() {
        NetworkPolicy agent = manifests.agentNetworkPolicy();
        Service service = manifests.gatewayService();
        assertEquals(List.of("Ingress", "Egress"), agent.getSpec().getPolicyTypes());
        List<NetworkPolicyEgressRule> egress = agent.getSpec().getEgress();
        assertEquals(1, egress.size(), "one rule: to the gateway");
        assertEquals(serviceTargets(service), ports(egress.get(0).getPorts()), "exactly the Service's target ports");
        assertTrue(ports(egress.get(0).getPorts()).containsAll(Set.of("5353/UDP", "5353/TCP")), "DNS goes to the gateway too");
        assertEquals(6, egress.get(0).getPorts().size(), "no port twice, none more");
        // Positive control: the comparison sees a port more or less.
        assertNotEquals(serviceTargets(service), ports(egress.get(0).getPorts().subList(1, 6)));
    }

    @Test
    void theAgentsOnlyPeerIsTheGatewaysPodsAndNothingReachesTheAgent() {
        NetworkPolicy agent = manifests.agentNetworkPolicy();
        List<NetworkPolicyPeer> peers = agent.getSpec().getEgress().get(0).getTo();
        assertEquals(1, peers.size());
        NetworkPolicyPeer peer = peers.get(0);
        assertNull(peer.getIpBlock(), "no address range");
        assertNull(peer.getNamespaceSelector(), "no other namespace");
        Deployment gateway = manifests.gatewayDeployment();
        assertEquals(gateway.getSpec().getTemplate().getMetadata().getLabels(), peer.getPodSelector().getMatchLabels(),
                "the peer is the gateway's pods");
        assertEquals(gateway.getSpec().getTemplate().getMetadata().getLabels(), manifests.gatewayService().getSpec().getSelector(),
                "the Service leads to the same pods");
        assertEquals(manifests.agentPod().getMetadata().getLabels(), agent.getSpec().getPodSelector().getMatchLabels(),
                "the policy selects the agent");
        assertTrue(agent.getSpec().getIngress().isEmpty(), "Ingress is a policy type with no rule: nothing reaches the agent");
    }

    @Test
    void theGatewayTakesTheAgentOnTheSamePortsAndReachesOnly443AndItsResolver() {
        NetworkPolicy gateway = manifests.gatewayNetworkPolicy();
        assertEquals(1, gateway.getSpec().getIngress().size());
        assertEquals(ports(manifests.agentNetworkPolicy().getSpec().getEgress().get(0).getPorts()),
                ports(gateway.getSpec().getIngress().get(0).getPorts()));
        assertEquals(manifests.agentLabels(), gateway.getSpec().getIngress().get(0).getFrom().get(0).getPodSelector()
                .getMatchLabels());
        assertEquals(Set.of("443/TCP"), ports(gateway.getSpec().getEgress().get(0).getPorts()));
        assertEquals(Set.of("53/UDP", "53/TCP"), ports(gateway.getSpec().getEgress().get(1).getPorts()));
        assertEquals("1.1.1.1/32", gateway.getSpec().getEgress().get(1).getTo().get(0).getIpBlock().getCidr());
        assertEquals(List.of("169.254.0.0/16"), gateway.getSpec().getEgress().get(0).getTo().get(0).getIpBlock().getExcept());
        assertEquals(new IntOrString(3128), manifests.gatewayDeployment().getSpec().getTemplate().getSpec().getContainers()
                .get(0).getReadinessProbe().getTcpSocket().getPort());
    }
}
