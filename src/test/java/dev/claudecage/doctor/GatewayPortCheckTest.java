package dev.claudecage.doctor;

import dev.claudecage.net.proxy.RelayRoute;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GatewayPortCheckTest {

    private static final List<RelayRoute> RELAYS = List.of(new RelayRoute("db.example.com", 5432, 5432),
            new RelayRoute("github.com", 22, 40000));

    @Test
    void showsTheRelaysAndWhereAMovedOneIs() {
        Diagnosis.Finding finding = GatewayPortCheck.of(false, Set.of(22), RELAYS, null);
        assertEquals(Diagnosis.Status.OK, finding.status());
        assertEquals("TCP relays: db.example.com:5432, github.com:22 at gateway port 40000", finding.detail());
    }

    @Test
    void aProgramHoldingAPortOfTheProxyOnEveryAddressStopsFilteredCages() {
        Diagnosis.Finding finding = GatewayPortCheck.of(false, Set.of(22, 80, 3128), List.of(), null);
        assertEquals(Diagnosis.Status.MISSING, finding.status());
        assertEquals("a program here listens on every address on 80, 3128; no allowed_hosts entry needs a TCP relay",
                finding.detail());
        assertTrue(finding.cost().startsWith("--network filtered cannot start"), finding.cost());
    }

    @Test
    void rootlessNeedsNoPortOfTheHostsAndAConfigProblemIsSaid() {
        assertEquals(Diagnosis.Status.NOT_NEEDED, GatewayPortCheck.of(true, Set.of(80), RELAYS, null).status());
        assertEquals("TCP relays unknown: bad key", GatewayPortCheck.of(false, Set.of(), List.of(), "bad key").detail());
    }
}
