package dev.claudecage.config;

import dev.claudecage.UserInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The section init writes: added to what the user's file says, or replacing its own, and what init proposes. */
class ProjectSectionsTest {

    private static final Path APP = Path.of("/home/you/src/app");
    private static final Map<ConfigKey, Object> SETTINGS = new LinkedHashMap<>();

    static {
        SETTINGS.put(ConfigKey.ALLOWED_HOSTS, List.of("api.anthropic.com", "preset:npm"));
        SETTINGS.put(ConfigKey.MOUNTS, List.of(APP + ":/workspace"));
    }

    private static final String SECTION = "  /home/you/src/app:\n    allowed_hosts:\n      - api.anthropic.com\n"
            + "      - preset:npm\n    mounts:\n      - /home/you/src/app:/workspace\n";

    @TempDir
    Path dir;

    private static String withSection(String document) {
        return ProjectSections.withSection(document, "config.yaml", APP, SETTINGS);
    }

    @Test
    void anEmptyFileOrOneOfCommentsGetsTheSectionAfterThem() {
        assertEquals("projects:\n" + SECTION, withSection(""));
        assertEquals("# mine\n# all mine\n\nprojects:\n" + SECTION, withSection("# mine\n# all mine\n"));
    }

    @Test
    void otherProjectsStayAndTheFoldersOwnSectionIsReplaced() {
        String other = "projects:\n  /srv/other:\n    memory: 2g # theirs\n";
        assertEquals(other + SECTION, withSection(other));
        String again = withSection(other + "  /home/you/src/app/:\n    memory: 9g\n");
        assertEquals(other + SECTION, again, "the same folder, written with a trailing slash");
    }

    @Test
    void anEmptyOrFlowStyleProjectsKeyTakesTheSection() {
        assertEquals("memory: 2g\nprojects:\n" + SECTION, withSection("memory: 2g\nprojects:\n"));
        assertEquals("memory: 2g\nprojects:\n" + SECTION, withSection("memory: 2g\nprojects: {}\n"));
    }

    @Test
    void aFileThatIsNoMappingIsLeftAlone() {
        assertThrows(UserInputException.class, () -> withSection("- a list\n"));
        assertThrows(UserInputException.class, () -> withSection("projects: [a]\n"));
    }

    @Test
    void theProposalKeepsWhatAppliesNowWithPresetsByNameAndAddsTheFindingsAndTheWorkspace() {
        Path app = new ConfigFixture(dir).directory("app");
        EffectiveConfig current = new ConfigFixture(dir)
                .user("allowed_hosts: [api.anthropic.com, preset:pypi, corp.example.com]\n").loaderIn(app).load(Map.of());
        Map<ConfigKey, Object> proposal = ProjectSections.proposal(current, app,
                List.of("preset:npm", "preset:pypi", "preset:github"));
        assertEquals(List.of("api.anthropic.com", "preset:pypi", "corp.example.com", "preset:npm", "preset:github"),
                proposal.get(ConfigKey.ALLOWED_HOSTS));
        assertEquals(List.of(app + ":/workspace"), proposal.get(ConfigKey.MOUNTS));

        Path data = new ConfigFixture(dir).directory("data");
        EffectiveConfig mounted = new ConfigFixture(dir)
                .user("mounts: ['" + data + ":/workspace:ro']\n").loaderIn(app).load(Map.of());
        assertEquals(List.of(data + ":/workspace:ro"), ProjectSections.proposal(mounted, app, List.of()).get(ConfigKey.MOUNTS),
                "something is at /workspace already");
    }
}
