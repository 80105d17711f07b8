package dev.claudecage.claudecode;

import dev.claudecage.CageException;
import dev.claudecage.host.HostIds;
import dev.claudecage.host.InvokingUser;
import dev.claudecage.net.gateway.ApiCredential;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which credential the gateway gets from the host, and how the login file is read. */
class HostLoginTest {

    private static final Instant NOW = Instant.parse("2026-06-01T12:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
    private static final String TOKEN = "sk-ant-oat01-host-login-token-0123456789";

    @TempDir
    Path home;

    private InvokingUser user() throws Exception {
        int uid = (Integer) Files.getAttribute(home, "unix:uid");
        int gid = (Integer) Files.getAttribute(home, "unix:gid");
        return new InvokingUser(home, new HostIds(uid, gid));
    }

    private Path login(long expiresAtMillis) throws Exception {
        Path claude = Files.createDirectories(home.resolve(".claude"));
        return Files.writeString(claude.resolve(".credentials.json"), "{\"claudeAiOauth\":{\"accessToken\":\"" + TOKEN
                + "\",\"refreshToken\":\"sk-ant-ort01-x\",\"expiresAt\":" + expiresAtMillis + ",\"scopes\":[\"user:inference\"]}}");
    }

    private static String secret(ApiCredential credential) {
        return new String(credential.secret().get());
    }

    @Test
    void anApiKeyComesFirstThenTheOAuthTokenThenTheLoginFile() throws Exception {
        login(NOW.plusSeconds(3600).toEpochMilli());
        ApiCredential key = HostLogin.find(Map.of("ANTHROPIC_API_KEY", " sk-ant-api03-k ", "CLAUDE_CODE_OAUTH_TOKEN", "t"),
                user(), CLOCK).orElseThrow();
        assertEquals(ApiCredential.Kind.API_KEY, key.kind());
        assertEquals("sk-ant-api03-k", secret(key));
        ApiCredential token = HostLogin.find(Map.of("ANTHROPIC_API_KEY", "", "CLAUDE_CODE_OAUTH_TOKEN", "sk-ant-oat01-env"),
                user(), CLOCK).orElseThrow();
        assertEquals(ApiCredential.Kind.OAUTH_TOKEN, token.kind());
        assertEquals("sk-ant-oat01-env", secret(token));
        ApiCredential file = HostLogin.find(Map.of(), user(), CLOCK).orElseThrow();
        assertEquals(ApiCredential.Kind.OAUTH_TOKEN, file.kind());
        assertEquals(TOKEN, secret(file));
        assertTrue(file.source().contains(".claude/.credentials.json"), file.source());
        assertFalse(file.source().contains(TOKEN));
    }

    @Test
    void noKeyAndNoLoginIsNone() throws Exception {
        assertEquals(Optional.empty(), HostLogin.find(Map.of(), user(), CLOCK));
    }

    @Test
    void theLoginIsReadAgainForEachRequestSoARenewalIsTakenUp() throws Exception {
        Path file = login(NOW.plusSeconds(60).toEpochMilli());
        ApiCredential credential = HostLogin.find(Map.of(), user(), CLOCK).orElseThrow();
        assertEquals(TOKEN, secret(credential));
        Files.writeString(file, Files.readString(file).replace(TOKEN, TOKEN + "-renewed"));
        assertEquals(TOKEN + "-renewed", secret(credential));
    }

    @Test
    void anExpiredLoginSaysWhenAndWhatToDoButNeverTheToken() throws Exception {
        login(NOW.minusSeconds(1).toEpochMilli());
        ApiCredential credential = HostLogin.find(Map.of(), user(), CLOCK).orElseThrow();
        CageException e = assertThrows(CageException.class, () -> credential.secret().get());
        assertTrue(e.getMessage().contains("expired at 2026-06-01T11:59:59Z"), e.getMessage());
        assertTrue(e.hint().contains("claude setup-token"), e.hint());
        assertFalse(e.getMessage().contains(TOKEN));
    }

    private static String parsed(String content) {
        return new String(HostLogin.parse(content.getBytes(StandardCharsets.UTF_8), Path.of("/h/.claude/.credentials.json"),
                NOW));
    }

    private static String refusal(String content) {
        return assertThrows(CageException.class, () -> parsed(content)).getMessage();
    }

    @Test
    void theLoginIsReadAsTheTreeReadItWhateverElseTheFileHolds() {
        String later = NOW.plusSeconds(60).toEpochMilli() + "";
        String earlier = NOW.minusSeconds(60).toEpochMilli() + "";
        // Other names before and after, nested; the token stripped.
        assertEquals(TOKEN, parsed("{\"a\":[{\"b\":[1,2,{}]}],\"claudeAiOauth\":{\"x\":{\"accessToken\":\"no\"},"
                + "\"accessToken\":\" " + TOKEN + " \",\"scopes\":[\"user:inference\"],\"expiresAt\":" + later
                + "},\"z\":null}"));
        // No expiry, or one that is no number, is not checked (as before); a fraction is cut off.
        assertEquals(TOKEN, parsed("{\"claudeAiOauth\":{\"accessToken\":\"" + TOKEN + "\"}}"));
        assertEquals(TOKEN, parsed("{\"claudeAiOauth\":{\"accessToken\":\"" + TOKEN + "\",\"expiresAt\":\"0\"}}"));
        assertTrue(refusal("{\"claudeAiOauth\":{\"accessToken\":\"" + TOKEN + "\",\"expiresAt\":" + earlier + ".9}}")
                .contains("expired at 2026-06-01T11:59:00Z"));
        // A number past a long's range converts to none.
        assertEquals(TOKEN, parsed("{\"claudeAiOauth\":{\"accessToken\":\"" + TOKEN
                + "\",\"expiresAt\":123456789012345678901234567890}}"));
        // A repeated name: its last value counts.
        assertEquals(TOKEN, parsed("{\"claudeAiOauth\":{\"accessToken\":\"old\"},\"claudeAiOauth\":{\"accessToken\":\""
                + TOKEN + "\"}}"));
        assertTrue(refusal("{\"claudeAiOauth\":{\"accessToken\":\"" + TOKEN + "\"},\"claudeAiOauth\":[]}")
                .contains("holds no claudeAiOauth.accessToken"));
        assertTrue(refusal("{\"claudeAiOauth\":{\"accessToken\":\"" + TOKEN + "\",\"accessToken\":7}}")
                .contains("holds no claudeAiOauth.accessToken"));
    }

    @Test
    void aTokenOfAnotherTypeOrInAnotherPlaceIsNone() {
        for (String content : new String[] {"{\"claudeAiOauth\":{\"accessToken\":42}}",
                "{\"claudeAiOauth\":{\"accessToken\":{\"value\":\"" + TOKEN + "\"}}}",
                "{\"claudeAiOauth\":{\"accessToken\":[\"" + TOKEN + "\"]}}",
                "{\"claudeAiOauth\":{\"accessToken\":\"  \"}}",
                "{\"claudeAiOauth\":\"" + TOKEN + "\"}",
                "{\"accessToken\":\"" + TOKEN + "\"}",
                "[{\"claudeAiOauth\":{\"accessToken\":\"" + TOKEN + "\"}}]",
                "\"" + TOKEN + "\""}) {
            String message = refusal(content);
            assertTrue(message.contains("holds no claudeAiOauth.accessToken"), content + ": " + message);
            assertFalse(message.contains(TOKEN), message);
        }
    }

    @Test
    void aFileCutShortOrBrokenAnywhereIsNotJson() {
        String whole = "{\"claudeAiOauth\":{\"accessToken\":\"" + TOKEN + "\",\"expiresAt\":1},\"other\":[1,{\"a\":2}]}";
        for (int end = 1; end < whole.length(); end++) {
            String cut = whole.substring(0, end);
            assertEquals("the Claude login /h/.claude/.credentials.json is not JSON", refusal(cut), cut);
        }
        for (String broken : new String[] {"{\"claudeAiOauth\":{\"accessToken\":\"" + TOKEN + "\"},\"a\":[1,,2]}",
                "{\"claudeAiOauth\":{\"accessToken\":\"" + TOKEN + "\"},\"a\":tru}", "[1,"}) {
            assertEquals("the Claude login /h/.claude/.credentials.json is not JSON", refusal(broken), broken);
        }
        // Positive control: the whole file is read (and its expiry checked).
        assertTrue(refusal(whole).contains("expired at 1970-01-01T00:00:00.001Z"), refusal(whole));
    }

    @Test
    void aBrokenFileIsRefusedWithoutQuotingIt() {
        Path file = Path.of("/h/.claude/.credentials.json");
        byte[] broken = ("{\"claudeAiOauth\":{\"accessToken\":\"" + TOKEN).getBytes(StandardCharsets.UTF_8);
        CageException e = assertThrows(CageException.class, () -> HostLogin.parse(broken, file, NOW));
        assertEquals("the Claude login /h/.claude/.credentials.json is not JSON", e.getMessage());
        CageException empty = assertThrows(CageException.class,
                () -> HostLogin.parse("{}".getBytes(StandardCharsets.UTF_8), file, NOW));
        assertTrue(empty.getMessage().contains("holds no claudeAiOauth.accessToken"), empty.getMessage());
    }

    @Test
    void aLinkInPlaceOfTheLoginIsNotFollowed() throws Exception {
        Path elsewhere = Files.writeString(home.resolve("elsewhere.json"), "{\"claudeAiOauth\":{\"accessToken\":\"other\"}}");
        Files.createDirectories(home.resolve(".claude"));
        Files.createSymbolicLink(home.resolve(".claude/.credentials.json"), elsewhere);
        ApiCredential credential = HostLogin.find(Map.of(), user(), CLOCK).orElseThrow();
        CageException e = assertThrows(CageException.class, () -> credential.secret().get());
        assertTrue(e.getMessage().contains("is not a regular file of uid"), e.getMessage());
    }

    @Test
    void aLoginOfAnotherUserIsNotRead() throws Exception {
        login(NOW.plusSeconds(60).toEpochMilli());
        InvokingUser someoneElse = new InvokingUser(home, new HostIds(user().ids().uid() + 4242, 4242));
        // The folder is not theirs: no login is found there.
        assertEquals(Optional.empty(), HostLogin.find(Map.of(), someoneElse, CLOCK));
        CageException e = assertThrows(CageException.class, () -> HostLogin.accessToken(someoneElse, CLOCK));
        assertTrue(e.getMessage().startsWith("cannot read the Claude login"), e.getMessage());
    }
}
