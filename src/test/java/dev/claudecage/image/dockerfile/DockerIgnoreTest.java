package dev.claudecage.image.dockerfile;

import dev.claudecage.UserInputException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DockerIgnoreTest {

    private static DockerIgnore ignore(String content) {
        return DockerIgnore.parse(Path.of(".dockerignore"), content);
    }

    @Test
    void patternsMatchThePathOrAParentDirectory() {
        DockerIgnore ignore = ignore("""
                # build output
                target
                *.log
                /secrets/*.pem
                """);
        assertTrue(ignore.excludes("target"));
        assertTrue(ignore.excludes("target/classes/A.class"), "a matched directory hides its contents");
        assertTrue(ignore.excludes("debug.log"));
        assertFalse(ignore.excludes("logs/debug.log"), "* does not cross directories");
        assertTrue(ignore.excludes("secrets/key.pem"));
        assertFalse(ignore.excludes("src/target.txt"));
    }

    @Test
    void doubleStarCrossesDirectoriesAndExceptionsPutPathsBack() {
        DockerIgnore ignore = ignore("""
                **/*.md
                !README.md
                node_modules/**
                """);
        assertTrue(ignore.excludes("docs/a/b.md"));
        assertTrue(ignore.excludes("CHANGES.md"));
        assertFalse(ignore.excludes("README.md"));
        assertTrue(ignore.excludes("node_modules/x/index.js"));
    }

    @Test
    void theLastMatchingRuleWins() {
        DockerIgnore ignore = ignore("*\n!keep\n!keep-too/**\nkeep-too/not-this\n");
        assertTrue(ignore.excludes("anything"));
        assertFalse(ignore.excludes("keep"));
        assertFalse(ignore.excludes("keep-too/a"));
        assertTrue(ignore.excludes("keep-too/not-this"));
    }

    @Test
    void globPatternsFollowGoFilepathMatch() {
        assertTrue(PathPattern.glob("*.sh").matches("a.sh"));
        assertFalse(PathPattern.glob("*.sh").matches("dir/a.sh"));
        assertTrue(PathPattern.glob("dir/?.s[h]").matches("dir/a.sh"));
        assertTrue(PathPattern.glob("[^a]*").matches("bcd"));
        assertFalse(PathPattern.glob("[^a]*").matches("abc"));
        assertTrue(PathPattern.glob("a\\*b").matches("a*b"));
        assertFalse(PathPattern.glob("a\\*b").matches("axb"));
        assertTrue(PathPattern.glob("a.c").matches("a.c"));
        assertFalse(PathPattern.glob("a.c").matches("abc"), "a dot is literal");
    }

    @Test
    void aBareExclamationMarkIsAnError() {
        assertThrows(UserInputException.class, () -> ignore("!\n"));
    }
}
