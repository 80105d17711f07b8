package dev.claudecage.net.gateway;

import dev.claudecage.CageException;
import dev.claudecage.net.AuditEvent;
import dev.claudecage.net.proxy.TrafficLimits;
import dev.claudecage.testing.mockapi.MockAnthropicApi;
import dev.claudecage.testing.mockapi.RecordedRequest;
import dev.claudecage.testing.mockapi.Script;
import dev.claudecage.testing.mockapi.Turn;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The gateway holding a subscription login's OAuth token instead of an API key. */
class ApiGatewayOAuthTest {

    static final String REAL_TOKEN = "sk-ant-oat01-REALtoken_for-tests-only-0123456789abcdefghijklmnopqrs";

    private final PlaceholderKey placeholder = PlaceholderKey.generate();
    private final List<AuditEvent> audit = new CopyOnWriteArrayList<>();
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        Collections.reverse(toClose);
        for (AutoCloseable closeable : toClose) {
            closeable.close();
        }
    }

    private MockAnthropicApi mock() throws Exception {
        MockAnthropicApi mock = MockAnthropicApi.builder().script(Script.of(Turn.text("hello"), Turn.text("again")))
                .start();
        toClose.add(mock);
        return mock;
    }

    private ApiGateway gateway(MockAnthropicApi mock, Supplier<char[]> token) {
        ApiGateway gateway = ApiGateway.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), mock.baseUrl(),
                placeholder, ApiCredential.oauthToken(token, "test"), audit::add, new TrafficLimits(1L << 40, 64),
                ApiGateway.Settings.defaults());
        toClose.add(gateway);
        return gateway;
    }

    @Test
    void sendsTheTokenAsABearerWithTheOAuthBetaAndNoApiKey() throws Exception {
        MockAnthropicApi mock = mock();
        ApiGateway gateway = gateway(mock, REAL_TOKEN::toCharArray);

        // As Claude Code sends it with CLAUDE_CODE_OAUTH_TOKEN: the placeholder as a bearer, betas of its own.
        RawHttp.Response response = RawHttp.send(gateway.address(), "POST", "/v1/messages", List.of(
                "Authorization: Bearer " + placeholder, "content-type: application/json",
                "anthropic-beta: claude-code-20250219, oauth-2025-04-20"), ApiGatewayTest.messagesBody(false));

        assertEquals(200, response.status(), response.rawText());
        assertFalse(RawHttp.contains(response.raw(), REAL_TOKEN), "the real token reached the cage");
        RecordedRequest seen = mock.requests().get(0);
        assertEquals(Optional.of("Bearer " + REAL_TOKEN), seen.header("authorization"));
        assertEquals(Optional.empty(), seen.header("x-api-key"));
        assertEquals(Optional.of("claude-code-20250219,oauth-2025-04-20"), seen.header("anthropic-beta"));
        assertFalse(seen.headers().toString().contains(placeholder.value()), "the placeholder went upstream");
    }

    @Test
    void addsTheOAuthBetaToAClientThatSendsThePlaceholderAsAnApiKey() throws Exception {
        MockAnthropicApi mock = mock();
        ApiGateway gateway = gateway(mock, REAL_TOKEN::toCharArray);

        RawHttp.Response response = RawHttp.send(gateway.address(), "POST", "/v1/messages", List.of(
                "x-api-key: " + placeholder, "content-type: application/json"), ApiGatewayTest.messagesBody(false));

        assertEquals(200, response.status(), response.rawText());
        RecordedRequest seen = mock.requests().get(0);
        assertEquals(List.of("Bearer " + REAL_TOKEN), seen.headers().get("authorization"));
        assertEquals(Optional.empty(), seen.header("x-api-key"));
        assertEquals(Optional.of(HeaderRules.OAUTH_BETA), seen.header("anthropic-beta"));
    }

    @Test
    void anExpiredLoginIsA401ThatSaysWhatToDoAndForwardsNothing() throws Exception {
        MockAnthropicApi mock = mock();
        ApiGateway gateway = gateway(mock, () -> {
            throw new CageException("the Claude login in /home/a/.claude/.credentials.json expired at 2026-01-01T00:00:00Z",
                    "run claude on the host");
        });

        RawHttp.Response response = RawHttp.send(gateway.address(), "POST", "/v1/messages", List.of(
                "Authorization: Bearer " + placeholder, "content-type: application/json"), "{}");

        assertEquals(401, response.status(), response.rawText());
        assertTrue(response.bodyText().contains("expired at 2026-01-01T00:00:00Z; run claude on the host"),
                response.bodyText());
        assertEquals(List.of(), mock.requests());
        // The gateway audits after the response went out: wait for it, bounded.
        for (int i = 0; i < 500 && audit.isEmpty(); i++) {
            Thread.sleep(10);
        }
        assertTrue(audit.stream().anyMatch(event -> event.decision().equals(AuditEvent.DENIED)
                && event.reason().contains("expired")), audit.toString());
    }

    @Test
    void theOAuthBetaIsAddedOnceWhateverTheCageSent() {
        assertEquals("oauth-2025-04-20", HeaderRules.withOAuthBeta(List.of()));
        assertEquals("a,b,oauth-2025-04-20", HeaderRules.withOAuthBeta(List.of("a, b", " ")));
        assertEquals("oauth-2025-04-20,a", HeaderRules.withOAuthBeta(List.of("oauth-2025-04-20", "a")));
    }
}
