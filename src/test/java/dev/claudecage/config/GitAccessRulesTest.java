package dev.claudecage.config;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The forge rules: how their globs match, their defaults, and what the configuration refuses in them and why. */
class GitAccessRulesTest {

    @TempDir
    Path dir;

    private ConfigFixture fixture;

    @BeforeEach
    void setUp() {
        fixture = new ConfigFixture(dir);
    }

    @Test
    void aStarMatchesAnyCharactersSlashesIncludedAndNothingElseIsSpecial() {
        assertTrue(GitAccessRules.matches("refs/heads/claude/*", "refs/heads/claude/x"));
        assertTrue(GitAccessRules.matches("refs/heads/claude/*", "refs/heads/claude/feature/x"));
        assertFalse(GitAccessRules.matches("refs/heads/claude/*", "refs/heads/claude"));
        assertFalse(GitAccessRules.matches("refs/heads/claude/*", "refs/heads/main"));
        assertTrue(GitAccessRules.matches("me/*", "me/app"));
        assertFalse(GitAccessRules.matches("me/*", "mine/app"));
        assertTrue(GitAccessRules.matches("*", "any/thing"));
        assertTrue(GitAccessRules.matches("me/*-tools", "me/dev-tools"));
        // '.' and other regex characters are themselves; case counts.
        assertFalse(GitAccessRules.matches("me/a.p", "me/axp"));
        assertFalse(GitAccessRules.matches("me/app", "Me/App"));
        assertFalse(GitAccessRules.matches("me/app", "me/app2"));
    }

    @Test
    void byDefaultEveryRepositoryAndOnlyTheAgentsBranchesNeverForced() {
        GitAccessRules rules = fixture.load().config().egress().credentials().gitAccess();
        assertEquals(GitAccessRules.defaults(), rules);
        assertTrue(rules.mayFetch("anyone/anything") && rules.mayPush("anyone/anything"));
        assertTrue(rules.mayUpdate("refs/heads/claude/fix-1"));
        assertFalse(rules.mayUpdate("refs/heads/main"));
        assertFalse(rules.mayUpdate("refs/tags/v1"));
        assertFalse(rules.mayForce("refs/heads/claude/fix-1"));
    }

    @Test
    void aForceRuleReachesOnlyRefsThePushRulesAllow() {
        GitAccessRules rules = new GitAccessRules(List.of("*"), List.of("me/app"), List.of("refs/heads/claude/*"),
                List.of("refs/heads/*"));
        assertTrue(rules.mayForce("refs/heads/claude/x"));
        assertFalse(rules.mayForce("refs/heads/main"), "force is a widening of a push rule, not one of its own");
        assertFalse(rules.mayPush("me/other"));
    }

    @Test
    void theKeysAreReadAsWritten() {
        GitAccessRules rules = fixture.user("git_fetch_repositories: [me/*, team/app]\ngit_push_repositories: [me/app]\n"
                + "git_push_refs: ['refs/heads/claude/*', refs/heads/main]\ngit_push_force_refs: ['refs/heads/claude/*']\n")
                .load().config().egress().credentials().gitAccess();
        assertEquals(new GitAccessRules(List.of("me/*", "team/app"), List.of("me/app"),
                List.of("refs/heads/claude/*", "refs/heads/main"), List.of("refs/heads/claude/*")), rules);
        assertEquals(List.of("refs/heads/claude/*", "refs/heads/main"),
                fixture.load().config().yamlValues().get("git_push_refs"), "claude-cage config shows them as written");
    }

    @Test
    void badRepositoryGlobsSayWhatIsWrongAndWhatToWrite() {
        assertTrue(fixture.user("git_push_repositories: ['https://github.com/me/app']\n").loadError()
                .contains("git_push_repositories: 'https://github.com/me/app' is a URL or an absolute path, not OWNER/NAME"));
        assertTrue(fixture.user("git_push_repositories: [/me/app]\n").loadError().contains("not OWNER/NAME"));
        assertTrue(fixture.user("git_fetch_repositories: ['me/app name']\n").loadError()
                .contains("holds a character other than"));
        assertTrue(fixture.user("git_fetch_repositories: ['me//app']\n").loadError().contains("inner '/'"));
        assertTrue(fixture.user("git_fetch_repositories: ['me/../app']\n").loadError().contains("a '.' or '..' part"));
        String gitSuffix = fixture.user("git_push_repositories: [me/app.git]\n").loadError();
        assertTrue(gitSuffix.contains("ends in .git; write the repository without it"), gitSuffix);
        assertTrue(gitSuffix.contains("e.g. me/app, me/* or * for every repository"), gitSuffix);
    }

    @Test
    void badRefGlobsSayWhatIsWrongAndWhatToWrite() {
        String branch = fixture.user("git_push_refs: [main]\n").loadError();
        assertTrue(branch.contains("git_push_refs: 'main' does not start with refs/; a branch is refs/heads/main"), branch);
        assertTrue(branch.contains("e.g. refs/heads/claude/*"), branch);
        for (String bad : List.of("refs/heads/a b", "refs/heads/a..b", "refs/heads//a", "refs/heads/a@{1}", "refs/heads/a~",
                "refs/heads/", "refs/heads/a.", "refs/heads/[ab]")) {
            assertTrue(fixture.user("git_push_force_refs: ['" + bad + "']\n").loadError().contains("is not a ref name"), bad);
        }
    }
}
