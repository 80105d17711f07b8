package dev.claudecage;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DaemonThreadsTest {

    /** An interrupt does not end the wait early, and the caller still sees it afterwards. */
    @Test
    void joinWaitsForTheThreadThroughAnInterruptAndKeepsIt() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Thread worker = DaemonThreads.start("test-worker", () -> {
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Thread caller = Thread.currentThread();
        Thread interrupter = DaemonThreads.start("test-interrupter", () -> {
            caller.interrupt();
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            }
            release.countDown();
        });
        try {
            DaemonThreads.joinUninterruptibly(worker);
            assertFalse(worker.isAlive(), "the wait ended only with the thread");
            assertTrue(Thread.interrupted(), "the interrupt that came during the wait is kept (and cleared here)");
        } finally {
            release.countDown();
            interrupter.join(5000);
        }
    }
}
