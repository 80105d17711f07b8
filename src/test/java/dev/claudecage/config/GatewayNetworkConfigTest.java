package dev.claudecage.config;

import dev.claudecage.UserInputException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** network: gateway:ADDRESS, a filtered cage whose services are a gateway elsewhere. */
class GatewayNetworkConfigTest {

    private static CageConfig load(Map<String, Object> flags) {
        return new ConfigLoader(Path.of("/nonexistent/system.yaml"), Path.of("/nonexistent/user.yaml"), Map.of(),
                new HostFacts(2, false, Optional.empty(), List.of()), Path.of("/")).load(flags).config();
    }

    @Test
    void aGatewayAddressMakesAFilteredCageWhoseServicesAreElsewhere() {
        CageConfig config = load(Map.of("network", "gateway:10.214.9.2"));
        assertEquals(NetworkMode.FILTERED, config.network());
        assertEquals("10.214.9.2", config.egress().externalGateway());
        assertTrue(config.egress().hasExternalGateway());
        CageConfig filtered = load(Map.of("network", "filtered"));
        assertNull(filtered.egress().externalGateway());
        assertFalse(filtered.egress().hasExternalGateway());
    }

    @Test
    void theGatewayIsNamedByItsIpv4AddressNotAName() {
        for (String wrong : List.of("gateway:gw.example", "gateway:", "gateway:10.0.0.256", "gateway:fd00::1")) {
            UserInputException error = assertThrows(UserInputException.class, () -> load(Map.of("network", wrong)), wrong);
            assertTrue(error.getMessage().contains("IPv4"), error.getMessage());
        }
    }

    @Test
    void gitCredentialsAndTheSshAgentBelongToTheGatewayNotBesideTheCage() {
        UserInputException error = assertThrows(UserInputException.class, () -> load(Map.of("network", "gateway:10.214.9.2",
                "ssh_agent", "true", "git_credentials", List.of("github.com=command:gh auth token"))));
        assertTrue(error.getMessage().contains("ssh_agent"), error.getMessage());
        assertTrue(error.getMessage().contains("git_credentials"), error.getMessage());
    }
}
