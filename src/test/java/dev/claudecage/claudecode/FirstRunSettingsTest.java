package dev.claudecage.claudecode;

import com.fasterxml.jackson.databind.JsonNode;
import dev.claudecage.json.Json;
import dev.claudecage.testing.Golden;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FirstRunSettingsTest {

    private static final String KEY = "sk-ant-cage-AbCdEfGhIjKlMnOpQrStUvWxYz012345";
    /** The key's last 20 characters, as Claude Code keeps an approved key. */
    private static final String APPROVAL = "MnOpQrStUvWxYz012345";

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static JsonNode tree(FirstRunSettings.Outcome outcome) throws Exception {
        return Json.mapper().readTree(new String(outcome.content(), StandardCharsets.UTF_8));
    }

    @Test
    void approvalIsTheKeysLastTwentyCharactersAsClaudeCodeKeepsIt() {
        assertEquals(20, APPROVAL.length());
        assertEquals(APPROVAL, FirstRunSettings.approvalOf(KEY));
        assertEquals(APPROVAL, FirstRunSettings.approvalOf(" " + KEY + "\n"), "Claude Code trims the key first");
    }

    @Test
    void aFreshHomeGetsOnboardingTheApprovalAndTheTrustOfTheWorkingDirectory() throws Exception {
        FirstRunSettings.Outcome outcome = FirstRunSettings.merge(null, KEY, "/workspace");
        assertTrue(outcome.writes());
        assertNull(outcome.refusal());
        Golden.assertMatches(Path.of("claudecode/golden/claude-json-fresh.json"),
                new String(outcome.content(), StandardCharsets.UTF_8));
        assertEquals(3, outcome.added().size(), outcome.added().toString());
    }

    @Test
    void theUsersOwnSettingsStayAsTheyWereAndInTheirOrder() throws Exception {
        String users = """
                {
                  "numStartups": 7,
                  "theme": "light",
                  "price": 0.1000000000000000055511151231257827,
                  "big": 123456789012345678901234567890,
                  "hasCompletedOnboarding": true,
                  "customApiKeyResponses": {"approved": ["aaaaaaaaaaaaaaaaaaaa"], "rejected": ["bbbbbbbbbbbbbbbbbbbb"]},
                  "projects": {"/elsewhere": {"allowedTools": ["Bash"], "hasTrustDialogAccepted": false}},
                  "mcpServers": {"x": {"command": "y", "args": ["-v"]}}
                }
                """;
        FirstRunSettings.Outcome outcome = FirstRunSettings.merge(bytes(users), KEY, "/workspace");
        Golden.assertMatches(Path.of("claudecode/golden/claude-json-merged.json"),
                new String(outcome.content(), StandardCharsets.UTF_8));
        JsonNode merged = tree(outcome);
        assertEquals(List.of("numStartups", "theme", "price", "big", "hasCompletedOnboarding", "customApiKeyResponses",
                "projects", "mcpServers"), fieldNames(merged), "the file's order is kept");
        String text = new String(outcome.content(), StandardCharsets.UTF_8);
        assertTrue(text.contains("0.1000000000000000055511151231257827") && text.contains("123456789012345678901234567890"),
                "a number keeps every digit: " + text);
        assertEquals(List.of("customApiKeyResponses.approved (the cage's placeholder key)",
                "projects[/workspace].hasTrustDialogAccepted"), outcome.added());
        assertFalse(merged.at("/projects/~1elsewhere/hasTrustDialogAccepted").booleanValue(),
                "another folder's trust stays as the user left it");
    }

    @Test
    void aSecondMergeHasNothingToWrite() {
        FirstRunSettings.Outcome first = FirstRunSettings.merge(null, KEY, "/workspace");
        FirstRunSettings.Outcome second = FirstRunSettings.merge(first.content(), KEY, "/workspace");
        assertFalse(second.writes(), "a home that has everything is not written again");
        assertNull(second.refusal());
        assertEquals(List.of(), second.added());
    }

    @Test
    void aRejectedPlaceholderAndAnUntrustedFolderStayTheUsersChoice() throws Exception {
        String users = "{\"hasCompletedOnboarding\": true, \"customApiKeyResponses\": {\"rejected\": [\"" + APPROVAL
                + "\"]}, \"projects\": {\"/workspace\": {\"hasTrustDialogAccepted\": false}}}";
        FirstRunSettings.Outcome outcome = FirstRunSettings.merge(bytes(users), KEY, "/workspace");
        assertFalse(outcome.writes(), "nothing to add: " + outcome.added());
    }

    @Test
    void onboardingClearedByALogoutIsCompletedAgain() throws Exception {
        // What Claude Code's /logout leaves: onboarding false, approvals emptied, rejections kept.
        String afterLogout = "{\"hasCompletedOnboarding\": false, \"customApiKeyResponses\": {\"approved\": [],"
                + " \"rejected\": []}, \"projects\": {\"/workspace\": {\"hasTrustDialogAccepted\": true}}}";
        JsonNode merged = tree(FirstRunSettings.merge(bytes(afterLogout), KEY, "/workspace"));
        assertTrue(merged.get("hasCompletedOnboarding").booleanValue());
        assertEquals(APPROVAL, merged.at("/customApiKeyResponses/approved/0").textValue());
    }

    @Test
    void contentThatIsNotAJsonObjectIsLeftAloneWithAReasonThatQuotesNoneOfIt() {
        String hostile = "\u001b]0;pwned\u0007";
        for (String content : List.of("", "[1, 2]", "\"text\"", "{\"a\": 1", "{\"a\": 1} trailing", "{} {}",
                "{\"a\": \"" + hostile + "\"", "{/* comment */}", "[".repeat(200) + "]".repeat(200))) {
            FirstRunSettings.Outcome outcome = FirstRunSettings.merge(bytes(content), KEY, "/workspace");
            assertFalse(outcome.writes(), "wrote over " + content);
            assertTrue(outcome.refusal() != null && !outcome.refusal().contains("pwned")
                    && !outcome.refusal().contains("\u001b"), content + ": " + outcome.refusal());
        }
    }

    @Test
    void keysOfAnotherShapeWhereTheMergeWritesLeaveTheFileAlone() {
        for (String content : List.of("{\"customApiKeyResponses\": []}", "{\"customApiKeyResponses\": {\"approved\": {}}}",
                "{\"customApiKeyResponses\": {\"rejected\": \"x\"}}", "{\"projects\": null}",
                "{\"projects\": {\"/workspace\": true}}")) {
            FirstRunSettings.Outcome outcome = FirstRunSettings.merge(bytes(content), KEY, "/workspace");
            assertFalse(outcome.writes(), content);
            assertTrue(outcome.refusal() != null, content);
        }
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new java.util.ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
