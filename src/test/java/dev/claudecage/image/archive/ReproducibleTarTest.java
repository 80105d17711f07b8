package dev.claudecage.image.archive;

import dev.claudecage.process.ProcessRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ReproducibleTarTest {

    private static final String LONG = "blobs/sha256/" + "a".repeat(64);

    @TempDir
    Path dir;

    private byte[] archive(Path blob) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ReproducibleTar tar = new ReproducibleTar(bytes)) {
            tar.folder("blobs");
            tar.folder("blobs/sha256");
            tar.file(LONG, blob);
            tar.file("index.json", "{}".getBytes(StandardCharsets.UTF_8));
        }
        return bytes.toByteArray();
    }

    @Test
    void theSameFilesGiveTheSameBytesWhateverTheirTimes() throws Exception {
        Path blob = Files.writeString(dir.resolve("blob"), "layer bytes\n".repeat(100));
        byte[] first = archive(blob);
        Files.setLastModifiedTime(blob, FileTime.from(Instant.parse("2001-02-03T04:05:06Z")));
        Files.readAllBytes(blob);
        assertArrayEquals(first, archive(blob));
        assertEquals(0, first.length % 512);
    }

    @Test
    void gnuTarReadsItBackAsWritten() throws Exception {
        Path blob = Files.writeString(dir.resolve("blob"), "layer bytes\n");
        Path tar = Files.write(dir.resolve("out.tar"), archive(blob));
        ProcessRunner runner = new ProcessRunner(false);
        String listing = runner.run(List.of("tar", "--numeric-owner", "-tvf", tar.toString()), Duration.ofSeconds(30)).stdout();
        List<String> lines = listing.lines().toList();
        assertEquals(4, lines.size(), listing);
        assertEquals("drwxr-xr-x 0/0               0 1970-01-01 00:00 blobs/", lines.get(0));
        assertEquals("-rw-r--r-- 0/0              12 1970-01-01 00:00 " + LONG, lines.get(2));
        Path out = Files.createDirectory(dir.resolve("x"));
        runner.run(List.of("tar", "-C", out.toString(), "-xf", tar.toString()), Duration.ofSeconds(30));
        assertEquals("layer bytes\n", Files.readString(out.resolve(LONG)));
        assertEquals("{}", Files.readString(out.resolve("index.json")));
    }

    @Test
    void aNameBeyondOneHundredBytesGoesIntoThePrefix() {
        String name = "a/".repeat(60) + "file";
        byte[] header = ReproducibleTar.header(name, 0644, 0, (byte) '0');
        assertEquals("file", new String(header, 0, 4, StandardCharsets.US_ASCII));
        assertEquals(name.substring(0, name.length() - 5), new String(header, 345, name.length() - 5, StandardCharsets.US_ASCII));
        assertThrows(IllegalArgumentException.class, () -> ReproducibleTar.header("x".repeat(101), 0644, 0, (byte) '0'));
    }

    @Test
    void aSizeBeyondEightGibibytesIsWrittenInBase256() {
        long size = 9L << 30;
        byte[] header = ReproducibleTar.header("big", 0644, size, (byte) '0');
        assertEquals((byte) 0x80, header[124]);
        long read = 0;
        for (int i = 128; i < 136; i++) {
            read = (read << 8) | (header[i] & 0xff);
        }
        assertEquals(size, read);
    }
}
