package dev.claudecage.session;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SessionLogTest {

    @TempDir
    Path dir;

    /** A clock the test moves. */
    static final class ManualClock extends Clock {
        long millis = 1_000_000;

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis);
        }
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void rotatesPastTheLimitKeepingOneOldFile() throws Exception {
        Path log = dir.resolve("session.log");
        ManualClock clock = new ManualClock();
        try (SessionLog out = new SessionLog(log, 10, clock)) {
            for (String chunk : List.of("aaaaaa", "bbbbbb", "cccccc", "dddddd")) {
                out.write(bytes(chunk));
                clock.millis += 2000;
            }
        }
        assertEquals("ccccccdddddd", Files.readString(log));
        assertEquals("aaaaaabbbbbb", Files.readString(SessionLog.rotated(log)));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(log)));
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        new LogReader(log).print(all, null);
        assertEquals("aaaaaabbbbbbccccccdddddd", all.toString(StandardCharsets.UTF_8));
    }

    @Test
    void sinceStartsAtTheFirstChunkWrittenThenOrLater() throws Exception {
        Path log = dir.resolve("session.log");
        ManualClock clock = new ManualClock();
        try (SessionLog out = new SessionLog(log, 1 << 20, clock)) {
            out.write(bytes("old\n"));
            clock.millis += 5000;
            out.write(bytes("new\n"));
            clock.millis += 100;
            out.write(bytes("newer\n"));
        }
        ByteArrayOutputStream recent = new ByteArrayOutputStream();
        new LogReader(log).print(recent, 1_000_000L + 3000);
        assertEquals("new\nnewer\n", recent.toString(StandardCharsets.UTF_8));
        ByteArrayOutputStream none = new ByteArrayOutputStream();
        new LogReader(log).print(none, 1_000_000L + 60_000);
        assertEquals("", none.toString(StandardCharsets.UTF_8));
        assertEquals(-1, LogReader.startOffset(List.of(), 5));
    }

    @Test
    void followSeesNewOutputAcrossARotationAndStopsWhenTheWriterIsGone() throws Exception {
        Path log = dir.resolve("session.log");
        ManualClock clock = new ManualClock();
        SessionLog out = new SessionLog(log, 8, clock);
        out.write(bytes("first-"));
        LogReader reader = new LogReader(log);
        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        LogReader.Position position = reader.print(seen, null);
        AtomicBoolean live = new AtomicBoolean(true);
        CompletableFuture<Void> following = CompletableFuture.runAsync(() -> {
            try {
                reader.follow(seen, position, live::get);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(300);
        out.write(bytes("second-"));
        Thread.sleep(300);
        out.write(bytes("third"));
        Thread.sleep(300);
        out.close();
        live.set(false);
        following.get(10, TimeUnit.SECONDS);
        assertEquals("first-second-third", seen.toString(StandardCharsets.UTF_8));
        assertTrue(Files.exists(SessionLog.rotated(log)));
        assertFalse(following.isCompletedExceptionally());
    }

    @Test
    void theReplayStartsAfterALineBreakOnceTheRingHasWrapped() {
        OutputRing ring = new OutputRing(8);
        ring.add(bytes("abc"));
        assertEquals("abc", new String(ring.snapshot(), StandardCharsets.UTF_8));
        ring.add(bytes("defg\nhijk"));
        assertEquals("hijk", new String(ring.snapshot(), StandardCharsets.UTF_8));
    }
}
