package dev.claudecage.net.gateway;

import dev.claudecage.CageException;
import dev.claudecage.config.GitCredential;
import dev.claudecage.process.ProcessRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where tokens come from, and what the errors say (never the token). */
class GitTokensTest {

    private final GitTokens tokens = new GitTokens(new ProcessRunner(false), List.of());

    @TempDir
    Path dir;

    private static GitCredential command(String... words) {
        return new GitCredential("git.test", GitCredential.DEFAULT_USER, List.of(words), null);
    }

    @Test
    void aCommandsOutputAndAFilesContentsAreStripped() throws Exception {
        assertArrayEquals("t0ken".toCharArray(), tokens.token(command("printf", "  t0ken\\n\\n")));
        Path file = Files.writeString(dir.resolve("token"), "\nfile-t0ken \n");
        assertArrayEquals("file-t0ken".toCharArray(),
                tokens.token(new GitCredential("git.test", "u", List.of(), file)));
    }

    @Test
    void aFailingCommandOrAnUnusableTokenIsAnErrorThatNeverQuotesIt() throws Exception {
        Path secret = Files.writeString(dir.resolve("secret"), "secret-out");
        CageException failed = assertThrows(CageException.class,
                () -> tokens.token(command("sh", "-c", "cat \"$0\"; exit 3", secret.toString())));
        assertTrue(failed.getMessage().contains("failed with exit code 3"), failed.getMessage());
        assertFalse(failed.getMessage().contains("secret-out"), failed.getMessage());
        CageException spaced = assertThrows(CageException.class, () -> tokens.token(command("printf", "two words")));
        assertTrue(spaced.getMessage().contains("holds a character other than printable ASCII"), spaced.getMessage());
        assertFalse(spaced.getMessage().contains("two words"), spaced.getMessage());
        assertEquals("the git token for git.test from command printf is empty",
                assertThrows(CageException.class, () -> tokens.token(command("printf", ""))).getMessage());
    }

    @Test
    void underSudoTheCommandRunsAsTheInvokingUser() {
        GitTokens asUser = new GitTokens(new ProcessRunner(false), List.of("env", "RUN_AS=someone"));
        assertArrayEquals("someone".toCharArray(), asUser.token(command("sh", "-c", "printf %s \"$RUN_AS\"")));
    }
}
