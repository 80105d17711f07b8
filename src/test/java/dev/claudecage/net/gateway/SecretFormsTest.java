package dev.claudecage.net.gateway;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Point 9 of the boundary review: the git gateway masked the raw token but not its Basic form. Every form a
 * server or a message could echo it in is masked, in strings (audit lines, errors) and in a response stream.
 */
class SecretFormsTest {

    private static final String TOKEN = "ghp_Zq3xT0kenWith+Slash/And=Eq";
    private static final SecretForms FORMS = SecretForms.ofGitToken("x-access-token", TOKEN);

    private static String base64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.US_ASCII));
    }

    /** Runs the text through the stream redactor in pieces of {@code piece} bytes. */
    private static String redactStream(SecretForms forms, String text, int piece) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SecretForms.Redacting redacting = forms.redacting(out);
        byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
        for (int offset = 0; offset < bytes.length; offset += piece) {
            redacting.write(bytes, offset, Math.min(piece, bytes.length - offset));
        }
        redacting.finish();
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    /** What no echo may keep: the token, or anything that decodes to a stretch of it. */
    private static void assertNothingOfTheTokenLeft(String masked) {
        assertFalse(masked.contains(TOKEN), masked);
        for (String user : new String[] {"x-access-token", "me", "someone-else", ""}) {
            String basic = base64(user + ":" + TOKEN).replace("=", "");
            // At most the two base64 characters at each edge survive: they mix the token with what surrounds it.
            assertFalse(masked.contains(basic.substring(basic.length() - 36, basic.length() - 2)), user + ": " + masked);
        }
        assertFalse(masked.contains(URLEncoder.encode(TOKEN, StandardCharsets.UTF_8).replace("+", "%2B")), masked);
    }

    @ParameterizedTest
    @ValueSource(strings = {"x-access-token", "me", "someone-else", ""})
    void theBasicFormIsMaskedWhoeverTheUserIs(String user) {
        String echo = "{\"authorization\":\"Basic " + base64(user + ":" + TOKEN) + "\"}";

        String masked = FORMS.mask(echo);

        assertNothingOfTheTokenLeft(masked);
        assertEquals(echo.length(), masked.length(), "the mask keeps the length");
        assertTrue(masked.startsWith("{\"authorization\":\"Basic "), masked);
    }

    @Test
    void theExactBasicValueTheGatewaySentIsMaskedWhole() {
        String sent = base64("x-access-token:" + TOKEN);

        assertEquals(sent.replaceAll("[^=]", "*"), FORMS.mask(sent));
        assertEquals("Basic " + "*".repeat(20), SecretForms.ofGitToken("me", "0123456789ab").mask("Basic " + base64("me:0123456789ab")));
    }

    @Test
    void rawUrlEncodedAndBase64FormsAreMasked() {
        String text = "token=" + TOKEN + "&encoded=" + URLEncoder.encode(TOKEN, StandardCharsets.UTF_8)
                + "&lower=" + URLEncoder.encode(TOKEN, StandardCharsets.UTF_8).replace("%2B", "%2b").replace("%2F", "%2f").replace("%3D", "%3d")
                + "&b64=" + base64(TOKEN) + "&b64url=" + Base64.getUrlEncoder().encodeToString(TOKEN.getBytes(StandardCharsets.US_ASCII));

        String masked = FORMS.mask(text);

        assertNothingOfTheTokenLeft(masked);
        assertFalse(masked.toLowerCase().contains("zq3xt0ken"), masked);
        assertEquals(text.length(), masked.length());
    }

    @Test
    void foundInSeesEveryForm() {
        assertTrue(FORMS.foundIn("x " + base64("bob:" + TOKEN)));
        assertTrue(FORMS.foundIn("x-echo: " + URLEncoder.encode(TOKEN, StandardCharsets.UTF_8)));
        assertFalse(FORMS.foundIn("nothing of it here: ghp_Zq3"));
    }

    @Test
    void theStreamIsMaskedTheSameWayWhereverTheWritesAreCut() throws IOException {
        String body = "001e# service=git-upload-pack\n" + "echo: Basic " + base64("me:" + TOKEN) + "\n"
                + "raw " + TOKEN + " url " + URLEncoder.encode(TOKEN, StandardCharsets.UTF_8) + "\n0000";
        String expected = FORMS.mask(body);
        assertNothingOfTheTokenLeft(expected);

        for (int piece : new int[] {1, 2, 3, 7, 64, body.length()}) {
            assertEquals(expected, redactStream(FORMS, body, piece), "pieces of " + piece);
        }
    }

    @Test
    void aLineWithoutAnyFormPassesAtOnce() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SecretForms.Redacting redacting = FORMS.redacting(out);
        byte[] line = "0032want 0123456789abcdef\n".getBytes(StandardCharsets.US_ASCII);

        redacting.write(line, 0, line.length);

        assertEquals(new String(line, StandardCharsets.US_ASCII), out.toString(StandardCharsets.US_ASCII));
    }

    @Test
    void shortDerivedFormsAreNotMaskedSoPacksStayIntact() {
        SecretForms shortToken = SecretForms.ofGitToken("x-access-token", "abc");

        assertTrue(shortToken.forms().stream().allMatch(form -> form.equals("abc")
                || form.length() >= SecretForms.MIN_DERIVED_CHARS), shortToken.forms().toString());
        // YWJj, base64 of abc, is four characters a pack holds by chance; the raw token is always masked.
        assertEquals("PACK YWJj ***", shortToken.mask("PACK YWJj abc"));
    }
}
