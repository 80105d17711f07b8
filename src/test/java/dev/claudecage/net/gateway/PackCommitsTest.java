package dev.claudecage.net.gateway;

import dev.claudecage.process.ProcessRunner;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fast-forwards read from packs that git itself made, as a push sends them (thin, deltas allowed): the chain of
 * pushed commits leads from the old tip to the new one, or it does not; and packs the cage could send instead
 * (truncated, padded, miscounted, corrupt) are refused.
 */
class PackCommitsTest {

    @TempDir
    static Path dir;

    private static final ProcessRunner RUNNER = new ProcessRunner(false);
    private static String base;
    private static String first;
    private static String second;
    private static String sibling;

    private static String git(String... args) {
        List<String> command = new java.util.ArrayList<>(List.of("git", "-C", dir.toString(), "-c", "user.name=t",
                "-c", "user.email=t@test"));
        command.addAll(List.of(args));
        return RUNNER.run(command, Duration.ofSeconds(30)).stdout().strip();
    }

    private static String commit(String file, String message) throws IOException {
        Files.writeString(dir.resolve(file), message.repeat(200));
        git("add", file);
        git("commit", "-q", "-m", message + "\n\n" + "a long body that makes commits alike, so that git deltifies them "
                .repeat(40));
        return git("rev-parse", "HEAD");
    }

    @BeforeAll
    static void history() throws IOException {
        git("init", "-q", "-b", "main");
        base = commit("a.txt", "base");
        first = commit("b.txt", "first");
        second = commit("c.txt", "second");
        git("checkout", "-q", "-b", "other", base);
        sibling = commit("d.txt", "sibling");
    }

    /** The pack git push would send for {@code revisions}: thin, with deltas, as pack-objects makes it. */
    private static byte[] pack(String... revisions) throws IOException {
        Path revs = dir.resolve("revs");
        Files.writeString(revs, String.join("\n", revisions) + "\n");
        Path out = dir.resolve("pack.bin");
        RUNNER.run(List.of("sh", "-c", "git -C \"$0\" pack-objects --stdout --thin --revs --delta-base-offset "
                + "--window=50 --depth=50 < \"$1\" > \"$2\"", dir.toString(), revs.toString(), out.toString()),
                Duration.ofSeconds(30));
        return Files.readAllBytes(out);
    }

    private static PackCommits read(byte[] pack) throws IOException {
        return PackCommits.read(new ByteArrayInputStream(pack), 40);
    }

    @Test
    void aChainOfPushedCommitsFromTheOldTipIsAFastForward() throws Exception {
        PackCommits pack = read(pack(second, "^" + base));
        assertTrue(pack.fastForward(base, second), "two commits on top of the old tip");
        assertTrue(pack.fastForward(first, second));
        assertFalse(pack.fastForward(sibling, second), "a rewrite: the old tip is not among the ancestors");
    }

    @Test
    void aRewriteIsNotAFastForward() throws Exception {
        PackCommits pack = read(pack(sibling, "^" + base));
        assertFalse(pack.fastForward(second, sibling));
        assertTrue(pack.fastForward(base, sibling), "the positive control: the same pack, from its real parent");
    }

    @Test
    void deltifiedCommitsAreFollowedToo() throws Exception {
        // Many alike commits in one pack: git deltifies some against others, by offset.
        git("checkout", "-q", "main");
        String tip = second;
        for (int i = 0; i < 8; i++) {
            tip = commit("e" + i + ".txt", "alike " + i);
        }
        byte[] bytes = pack(tip, "^" + second);
        // The control that this test reads deltas at all: git's own index of the same pack lists commits as deltas.
        Path bare = dir.resolve("indexed.git");
        RUNNER.run(List.of("git", "init", "-q", "--bare", bare.toString()), Duration.ofSeconds(30));
        String deltaCommits = RUNNER.run(List.of("sh", "-c", "cd \"$0\" && git index-pack --stdin --fix-thin < \"$1\" "
                + ">/dev/null 2>&1; git verify-pack -v objects/pack/*.idx | awk '$2 == \"commit\" && NF == 7' | wc -l",
                bare.toString(), dir.resolve("pack.bin").toString()), Duration.ofSeconds(30)).stdout().strip();
        assertTrue(Integer.parseInt(deltaCommits) > 0, "git made no commit deltas here");
        assertTrue(read(bytes).fastForward(second, tip));
    }

    @Test
    void packsTheCageCouldSendInsteadAreRefused() throws Exception {
        byte[] good = pack(first, "^" + base);
        assertThrows(EOFException.class, () -> read(Arrays.copyOf(good, good.length - 10)), "truncated in the trailer");
        assertThrows(EOFException.class, () -> read(Arrays.copyOf(good, 40)), "truncated in an object");
        assertThrows(ProtocolException.class, () -> read(Arrays.copyOf(good, good.length + 1)), "a byte after the trailer");
        byte[] moreObjects = good.clone();
        moreObjects[11]++;
        assertThrows(IOException.class, () -> read(moreObjects), "more objects said than sent");
        byte[] notAPack = good.clone();
        notAPack[0] = 'J';
        assertThrows(ProtocolException.class, () -> read(notAPack));
        byte[] corrupt = good.clone();
        for (int i = 14; i < 30; i++) {
            corrupt[i] ^= 0x5a;
        }
        assertThrows(IOException.class, () -> read(corrupt), "corrupt zlib data");
        assertThrows(ProtocolException.class, () -> read(("PACK\0\0\0\2\0\0\0\1" + "\u00ff".repeat(12))
                .getBytes(StandardCharsets.ISO_8859_1)), "an object whose size does not fit");
    }
}
