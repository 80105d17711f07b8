package dev.claudecage.session;

import org.junit.jupiter.api.Test;

import java.io.FileOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The supervisor's last read of an ended cage's terminal: all of its output, and no wait beyond it. */
class PtyTest {

    private static final int LONG_WAIT_MILLIS = 10_000;

    @Test
    void aWokenReadReturnsAtOnceAndAWaitingOneIsEnded() throws Exception {
        try (Pty pty = Pty.open()) {
            byte[] buffer = new byte[1024];
            // Positive control: without the wake-up, a read with nothing to read waits out its timeout.
            long began = System.nanoTime();
            assertEquals(0, pty.read(buffer, 300).length);
            assertTrue(System.nanoTime() - began >= TimeUnit.MILLISECONDS.toNanos(250), "the read waited");

            // A read already waiting (the pump's, when the cage ends) is ended by the wake-up.
            Thread waker = new Thread(() -> {
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                pty.wakeReader();
            });
            began = System.nanoTime();
            waker.start();
            assertEquals(0, pty.read(buffer, LONG_WAIT_MILLIS).length);
            assertTrue(System.nanoTime() - began < TimeUnit.MILLISECONDS.toNanos(LONG_WAIT_MILLIS / 2),
                    "the waiting read ended at the wake-up, not at its timeout");
            waker.join();

            // Every later read returns at once too.
            began = System.nanoTime();
            assertEquals(0, pty.read(buffer, LONG_WAIT_MILLIS).length);
            assertTrue(System.nanoTime() - began < TimeUnit.MILLISECONDS.toNanos(LONG_WAIT_MILLIS / 2));
        }
    }

    @Test
    void aWokenReadStillReadsWhatTheCagePrintedLast() throws Exception {
        try (Pty pty = Pty.open(); FileOutputStream slave = new FileOutputStream(pty.slavePath())) {
            slave.write("last words".getBytes(StandardCharsets.US_ASCII));
            slave.flush();
            pty.wakeReader();
            byte[] buffer = new byte[1024];
            assertArrayEquals("last words".getBytes(StandardCharsets.US_ASCII), pty.read(buffer, LONG_WAIT_MILLIS));
            assertEquals(0, pty.read(buffer, LONG_WAIT_MILLIS).length, "then nothing more, at once");
        }
    }
}
