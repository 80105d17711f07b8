package dev.claudecage.claudecode;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.claudecage.CageException;
import dev.claudecage.host.InvokingUser;
import dev.claudecage.host.UntrustedDirectory;
import dev.claudecage.json.Json;
import dev.claudecage.net.gateway.ApiCredential;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;

/**
 * The user's way into the Anthropic API as found on the host, for the API gateway to hold: in
 * order, an API key in {@code ANTHROPIC_API_KEY}; a subscription login's OAuth token in
 * {@code CLAUDE_CODE_OAUTH_TOKEN} (what {@code claude setup-token} prints); the login Claude Code
 * keeps in the invoking user's {@code ~/.claude/.credentials.json}.
 * <p>
 * The login file is read again for every request the gateway forwards, so that when Claude Code
 * on the host refreshes the login, the cage goes on with the new token; claude-cage never
 * refreshes it itself (the refresh would replace the user's token under their running Claude
 * Code). An expired login is refused with what to do. The file is read as its owner keeps it: no
 * link is followed in ~/.claude, and a file that is not the invoking user's own is refused (the
 * host reads it as root; it must not send root's files upstream as a token).
 */
public final class HostLogin {

    static final String CREDENTIALS = ".credentials.json";
    /** Claude Code's own file is a few hundred bytes; past this it is not that file. */
    static final int READ_LIMIT = 64 * 1024;
    static final String RENEW = "run claude on the host, which renews its login, or make a long-lived token with "
            + "'claude setup-token' and give it to claude-cage as CLAUDE_CODE_OAUTH_TOKEN";

    private HostLogin() {
    }

    /** The credential in this environment or the invoking user's login file, if any. */
    public static Optional<ApiCredential> find(Map<String, String> env) {
        return find(env, InvokingUser.current(), Clock.systemUTC());
    }

    static Optional<ApiCredential> find(Map<String, String> env, InvokingUser user, Clock clock) {
        Optional<char[]> key = fromVariable(env, "ANTHROPIC_API_KEY");
        if (key.isPresent()) {
            char[] held = key.get();
            return Optional.of(ApiCredential.apiKey(held::clone, "ANTHROPIC_API_KEY"));
        }
        Optional<char[]> token = fromVariable(env, "CLAUDE_CODE_OAUTH_TOKEN");
        if (token.isPresent()) {
            char[] held = token.get();
            return Optional.of(ApiCredential.oauthToken(held::clone, "CLAUDE_CODE_OAUTH_TOKEN"));
        }
        Path file = user.home().resolve(".claude").resolve(CREDENTIALS);
        if (!loginFileIsThere(user)) {
            return Optional.empty();
        }
        return Optional.of(ApiCredential.oauthToken(() -> accessToken(user, clock), "the Claude login in " + file));
    }

    private static Optional<char[]> fromVariable(Map<String, String> env, String name) {
        String value = env.get(name);
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.strip().toCharArray());
    }

    private static boolean loginFileIsThere(InvokingUser user) {
        try (UntrustedDirectory claude = UntrustedDirectory.open(claudeFolder(user))) {
            return claude.stat(CREDENTIALS).isPresent();
        } catch (IOException e) {
            return false;
        }
    }

    /** ~/.claude as it really is (a link to a dotfiles checkout is fine), when it is the user's own folder. */
    private static Path claudeFolder(InvokingUser user) throws IOException {
        Path folder = user.home().resolve(".claude").toRealPath();
        try (UntrustedDirectory opened = UntrustedDirectory.open(folder)) {
            if (opened.stat().uid() != user.ids().uid()) {
                throw new IOException(folder + " belongs to uid " + opened.stat().uid() + ", not to uid "
                        + user.ids().uid() + " who runs claude-cage");
            }
        }
        return folder;
    }

    /** The login's access token, read now. */
    static char[] accessToken(InvokingUser user, Clock clock) {
        Path file = user.home().resolve(".claude").resolve(CREDENTIALS);
        byte[] content;
        try (UntrustedDirectory claude = UntrustedDirectory.open(claudeFolder(user))) {
            UntrustedDirectory.Entry entry = claude.stat(CREDENTIALS).orElseThrow(
                    () -> new CageException("the Claude login " + file + " is gone", RENEW));
            if (entry.kind() != UntrustedDirectory.Entry.Kind.FILE || entry.uid() != user.ids().uid()) {
                throw new CageException("the Claude login " + file + " is not a regular file of uid " + user.ids().uid()
                        + " who runs claude-cage, so it is not read", "log in again with claude on the host");
            }
            content = claude.readFile(CREDENTIALS, READ_LIMIT);
        } catch (IOException e) {
            throw new CageException("cannot read the Claude login " + file + ": " + e.getMessage(), RENEW);
        }
        try {
            return parse(content, file, clock.instant());
        } finally {
            Arrays.fill(content, (byte) 0);
        }
    }

    /**
     * The access token of Claude Code's login file {@code content}, if it has not expired at {@code now}.
     * Read with Jackson's streaming parser, not its object mapper, whose start would cost the gateway's first
     * request tens of milliseconds: the whole file is still parsed (anything that is not JSON is refused), and
     * it is read as the mapper's tree read it, a repeated name's last value counting.
     */
    static char[] parse(byte[] content, Path file, Instant now) {
        Login login;
        try (JsonParser parser = Json.factory().createParser(content)) {
            login = read(parser);
        } catch (IOException e) {
            // Never the parser's message: it quotes the file, token and all.
            throw new CageException("the Claude login " + file + " is not JSON", RENEW);
        }
        if (login.accessToken() == null || login.accessToken().isBlank()) {
            throw new CageException("the Claude login " + file + " holds no claudeAiOauth.accessToken", RENEW);
        }
        if (login.expiresAt() != null && Instant.ofEpochMilli(login.expiresAt()).isBefore(now)) {
            throw new CageException("the Claude login in " + file + " expired at "
                    + Instant.ofEpochMilli(login.expiresAt()), RENEW);
        }
        return login.accessToken().strip().toCharArray();
    }

    /**
     * What the login holds: claudeAiOauth.accessToken when it is text, and claudeAiOauth.expiresAt when it is a
     * number that fits a long (a fraction is cut off); each null otherwise.
     */
    private record Login(String accessToken, Long expiresAt) {
        static final Login NONE = new Login(null, null);
    }

    private static Login read(JsonParser parser) throws IOException {
        JsonToken root = parser.nextToken();
        if (root != JsonToken.START_OBJECT) {
            parser.skipChildren();
            return Login.NONE;
        }
        Login login = Login.NONE;
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String name = parser.currentName();
            JsonToken value = parser.nextToken();
            if (!name.equals("claudeAiOauth")) {
                parser.skipChildren();
            } else if (value == JsonToken.START_OBJECT) {
                login = readOauth(parser);
            } else {
                parser.skipChildren();
                login = Login.NONE;
            }
        }
        // Each loop ends only at its object's end: the parser throws on a file cut short.
        return login;
    }

    private static Login readOauth(JsonParser parser) throws IOException {
        String accessToken = null;
        Long expiresAt = null;
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String name = parser.currentName();
            JsonToken value = parser.nextToken();
            if (name.equals("accessToken")) {
                accessToken = value == JsonToken.VALUE_STRING ? parser.getText() : null;
            } else if (name.equals("expiresAt")) {
                expiresAt = longValue(parser, value);
            }
            parser.skipChildren();
        }
        return new Login(accessToken, expiresAt);
    }

    /** The number as a long when it fits one (a fraction cut off), else null: what the tree's canConvertToLong took. */
    private static Long longValue(JsonParser parser, JsonToken value) throws IOException {
        if (value == JsonToken.VALUE_NUMBER_INT) {
            JsonParser.NumberType type = parser.getNumberType();
            return type == JsonParser.NumberType.INT || type == JsonParser.NumberType.LONG ? parser.getLongValue() : null;
        }
        if (value == JsonToken.VALUE_NUMBER_FLOAT) {
            double number = parser.getDoubleValue();
            return number >= Long.MIN_VALUE && number <= Long.MAX_VALUE ? (long) number : null;
        }
        return null;
    }
}
