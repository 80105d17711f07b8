package dev.claudecage.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.claudecage.it.CageHarness.ROOTFS;
import static dev.claudecage.it.CageHarness.cage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Claude Code's own login: what {@code claude login} writes (~/.claude/.credentials.json, and
 * ~/.claude.json, which Claude Code replaces by renaming a temporary file over it) survives a stop
 * and a start of a persisted session. And which way the API goes: through the gateway with a key on
 * the host, straight through the proxy with Claude Code's own login without one.
 */
@ExtendWith(CleanSessionHost.class)
class ClaudeLoginIT {

    private static final String SESSION = "it-login";

    @Test
    void theLoginPersistsAcrossStopAndStart() {
        CageHarness.Result start = cage("start", "--detach", "--name", SESSION, "--rootfs", ROOTFS.toString(),
                "--network", "none", "--", "sh", "-c", "exec sleep 600");
        assertEquals(0, start.exitCode(), start.toString());
        CageHarness.Result login = cage("shell", SESSION, "--", "sh", "-c", String.join("; ",
                "set -e",
                "mkdir -p -m 700 $HOME/.claude",
                "umask 077",
                "printf '{\"claudeAiOauth\":{\"accessToken\":\"test-oauth\"}}' > $HOME/.claude/.credentials.json",
                // As Claude Code does it: a new file, renamed over the old one.
                "printf '{\"oauthAccount\":{\"emailAddress\":\"a@test\"}}' > $HOME/.claude.json.tmp",
                "mv $HOME/.claude.json.tmp $HOME/.claude.json"));
        assertEquals(0, login.exitCode(), login.toString());
        assertEquals(0, cage("stop", "--timeout", "1", SESSION).exitCode());
        CageHarness.Result again = cage("start", "--detach", "--name", SESSION);
        assertEquals(0, again.exitCode(), again.toString());
        CageHarness.Result read = cage("shell", SESSION, "--", "sh", "-c",
                "cat $HOME/.claude/.credentials.json; echo; cat $HOME/.claude.json; echo; stat -c %a $HOME/.claude/.credentials.json");
        assertEquals(0, read.exitCode(), read.toString());
        assertEquals("{\"claudeAiOauth\":{\"accessToken\":\"test-oauth\"}}\n{\"oauthAccount\":{\"emailAddress\":\"a@test\"}}\n600\n",
                read.stdout(), read.toString());
    }

    @Test
    void theGatewayIsTheApiPathOnlyWithAKeyOnTheHost(@TempDir Path dir) {
        String script = "echo \"base=${ANTHROPIC_BASE_URL:-unset} key=${ANTHROPIC_API_KEY:-unset}\"";
        List<String> args = List.of("run", "--rootfs", ROOTFS.toString(), "--network", "filtered",
                "--audit-log", dir.resolve("audit.jsonl").toString(), "--", "sh", "-c", script);
        CageHarness.Result withKey = CageHarness.launch(args, "", Map.of("ANTHROPIC_API_KEY", "sk-ant-api03-test-key"),
                Duration.ofMinutes(2));
        assertEquals(0, withKey.exitCode(), withKey.toString());
        assertTrue(withKey.stdout().matches("base=http://[0-9.]+:8080 key=sk-ant-cage-\\S+\n"), withKey.toString());
        // An empty ANTHROPIC_API_KEY is no key, whatever the test's own environment holds.
        CageHarness.Result withoutKey = CageHarness.launch(args, "", Map.of("ANTHROPIC_API_KEY", ""),
                Duration.ofMinutes(2));
        assertEquals(0, withoutKey.exitCode(), withoutKey.toString());
        assertEquals("base=unset key=unset\n", withoutKey.stdout(), withoutKey.toString());
    }
}
