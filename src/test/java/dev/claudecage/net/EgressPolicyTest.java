package dev.claudecage.net;

import dev.claudecage.config.CageConfig;
import dev.claudecage.config.ConfigLoader;
import dev.claudecage.config.HostFacts;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which names the API gateway reserves for itself, and only while it holds the user's key. */
class EgressPolicyTest {

    private static CageConfig config(Map<String, Object> flags) {
        return new ConfigLoader(Path.of("/nonexistent/system.yaml"), Path.of("/nonexistent/user.yaml"), Map.of(),
                new HostFacts(2, false, Optional.empty(), List.of()), Path.of("/")).load(flags).config();
    }

    @Test
    void theApiHostsAreTheUpstreamsAndAnthropicsOwn() {
        assertEquals(Set.of("api.anthropic.com"), EgressPolicy.apiHostNames(config(Map.of())));
        assertEquals(List.of("llm.corp.test", "api.anthropic.com"),
                List.copyOf(EgressPolicy.apiHostNames(config(Map.of("api_upstream", "https://LLM.Corp.test:8443/v1")))));
        // The proxy refuses every IP address anyway; there is no name to reserve.
        assertEquals(Set.of("api.anthropic.com"),
                EgressPolicy.apiHostNames(config(Map.of("api_upstream", "http://10.99.0.2:8443"))));
    }

    @Test
    void attack7TheApiHostIsReservedOnlyWhileTheGatewayHoldsTheKey() {
        CageConfig config = config(Map.of("allowed_hosts", List.of("api.anthropic.com", "api.anthropic.com:80", "github.com")));

        EgressPolicy withKey = EgressPolicy.from(config, true);
        assertFalse(withKey.allows("api.anthropic.com", 443));
        assertFalse(withKey.allows("Api.Anthropic.Com.", 80));
        assertFalse(withKey.allowsName("api.anthropic.com"));
        assertEquals(Optional.of("the API gateway holds your key: api.anthropic.com only through it"),
                withKey.apiHostReason("API.ANTHROPIC.COM."));
        assertTrue(withKey.allows("github.com", 443));

        EgressPolicy withoutKey = EgressPolicy.from(config, false);
        assertTrue(withoutKey.allows("api.anthropic.com", 443), "control: without the gateway allowed_hosts decides");
        assertEquals(Optional.empty(), withoutKey.apiHostReason("api.anthropic.com"));
    }
}
