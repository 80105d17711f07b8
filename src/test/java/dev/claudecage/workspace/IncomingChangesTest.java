package dev.claudecage.workspace;

import dev.claudecage.CageException;
import dev.claudecage.config.ProtectedPath;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class IncomingChangesTest {

    private static final List<ProtectedPath> PROTECTED = ProtectedPath.DEFAULTS.stream().map(ProtectedPath::parse).toList();

    private static IncomingChanges.Change file(String path) {
        return new IncomingChanges.Change("100644", path);
    }

    @Test
    void readsGitsRawListWithNamesAsStoredAndEveryCommitsEntries() {
        String raw = ":000000 120000 0000000 914261d A\0.claude\0:000000 100644 0000000 587be6b A\0.vscode/tâsks.json\0"
                + "\0:100644 000000 e692a90 0000000 D\0name with\nnewline\0";

        assertEquals(List.of(new IncomingChanges.Change("120000", ".claude"), file(".vscode/tâsks.json"),
                new IncomingChanges.Change("000000", "name with\nnewline")), IncomingChanges.parse(raw));
    }

    @Test
    void anEntryWithoutItsPathOrAHeadThatIsNotGitsStopsTheCheck() {
        assertThrows(CageException.class, () -> IncomingChanges.parse(":000000 100644 0000000 587be6b A"));
        assertThrows(CageException.class, () -> IncomingChanges.parse("x\0y\0"));
        assertThrows(CageException.class, () -> IncomingChanges.parse(":000000 100644 0000000 587be6b R100\0a\0b\0"));
    }

    @Test
    void refusesLinksSubmodulesOddNamesGitsFolderAndProtectedPathsAboveAndBelow() {
        List<IncomingChanges.Change> changes = List.of(
                new IncomingChanges.Change("120000", "docs/link"),
                new IncomingChanges.Change("160000", "vendor/lib"),
                file("a\u001bb"), file("caf\ufffd"), file("a//b"),
                file("sub/.Git/hooks/post-checkout"),
                file(".claude/settings.json"), file(".claude/commands/x/y.md"), file(".claude"), file(".Vscode/tasks.json"),
                new IncomingChanges.Change("000000", ".envrc"),
                file("src/main.c"), file(".claude/agents/reviewer.md"), file(".envrc.d/x"), file("docs/.envrc"));

        List<String> refused = IncomingChanges.refusals(changes, PROTECTED).stream().map(IncomingChanges.Refusal::line).toList();

        assertEquals(List.of(
                "docs/link: a symbolic link (apply brings over no links)",
                "vendor/lib: a submodule entry (apply brings over no submodules)",
                "a\\x1bb: a name with control characters (shown escaped)",
                "caf\ufffd: a name that is not UTF-8 (or holds U+FFFD), which this check cannot read for certain",
                "a//b: not a normal path (an empty, '.' or '..' name)",
                "sub/.Git/hooks/post-checkout: inside a folder git keeps for itself (.git)",
                ".claude/settings.json: protected (.claude/settings.json in protected_paths)",
                ".claude/commands/x/y.md: protected (.claude/commands/ in protected_paths)",
                ".claude: in the place of a folder that holds .claude/settings.json (protected_paths)",
                ".Vscode/tasks.json: protected (.vscode/ in protected_paths)",
                ".envrc: protected (.envrc in protected_paths)"), refused);
    }

    @Test
    void aPathTheRangeChangesTwiceIsNamedOnce() {
        assertEquals(1, IncomingChanges.refusals(List.of(file(".envrc"), file(".envrc")), PROTECTED).size());
    }

    @Test
    void foldsNamesAsCaseInsensitiveHfsAndNtfsFileSystemsWould() {
        for (String variant : List.of(".ENVRC", ".envrc.", ".envrc ..", ".env\u200crc", ".env\ufeffrc", ".Envrc")) {
            assertEquals(".envrc", IncomingChanges.fold(variant), variant);
        }
        // Composed and decomposed é are one name on HFS+ and APFS.
        assertEquals(IncomingChanges.fold("r\u00e9glages"), IncomingChanges.fold("re\u0301glages"));
        assertEquals("envrc", IncomingChanges.fold("envrc"));
    }
}
