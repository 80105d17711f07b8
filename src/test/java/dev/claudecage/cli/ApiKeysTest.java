package dev.claudecage.cli;

import dev.claudecage.config.CageConfig;
import dev.claudecage.config.ConfigLoader;
import dev.claudecage.config.HostFacts;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Without a key on the host, run and start say that the agent reaches the API as anyone. */
class ApiKeysTest {

    private static CageConfig config(Map<String, Object> flags) {
        return new ConfigLoader(Path.of("/nonexistent/system.yaml"), Path.of("/nonexistent/user.yaml"), Map.of(),
                new HostFacts(2, false, Optional.empty(), List.of()), Path.of("/")).load(flags).config();
    }

    @Test
    void withoutAKeyAFilteredCageIsWarnedThatTheApiIsReachableWithAnyCredential() {
        Optional<String> warning = ApiKeys.warningWithoutKey(config(Map.of()), false);

        assertTrue(warning.isPresent());
        assertTrue(warning.get().startsWith("claude-cage: warning: no API key (--api-key or ANTHROPIC_API_KEY) and no "
                + "Claude login (CLAUDE_CODE_OAUTH_TOKEN or ~/.claude/.credentials.json) on the host"), warning.get());
        assertTrue(warning.get().contains("the agent reaches api.anthropic.com through the proxy with any credential"),
                warning.get());
    }

    @Test
    void noWarningWithAKeyOrWhenNoApiHostIsReachable() {
        assertEquals(Optional.empty(), ApiKeys.warningWithoutKey(config(Map.of()), true));
        assertEquals(Optional.empty(), ApiKeys.warningWithoutKey(config(Map.of("network", "none")), false));
        assertEquals(Optional.empty(), ApiKeys.warningWithoutKey(config(Map.of("allowed_hosts", "github.com")), false));
    }

    @Test
    void theWarningNamesEveryApiHostTheProxyWouldLetThrough() {
        CageConfig config = config(Map.of("api_upstream", "https://llm.corp.test",
                "allowed_hosts", List.of("api.anthropic.com", "llm.corp.test")));

        assertTrue(ApiKeys.warningWithoutKey(config, false).orElseThrow()
                .contains("reaches llm.corp.test and api.anthropic.com through the proxy"));
    }
}
