package dev.claudecage.session;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The supervisor, started before its plan, goes on only with the plan of a start that is still there. */
class SupervisorMainTest {

    private static SessionPaths paths(Path dir) throws Exception {
        SessionStore store = new SessionStore(new SessionRoots(dir.resolve("data"), dir.resolve("run")));
        SessionPaths paths = store.paths(SessionName.of("brisk-otter"), false);
        Files.createDirectories(paths.planFile().getParent());
        return paths;
    }

    @Test
    void goesOnOnceTheStartHasRecordedThePlan(@TempDir Path dir) throws Exception {
        SessionPaths paths = paths(dir);
        Thread start = new Thread(() -> {
            try {
                Thread.sleep(100);
                Files.writeString(paths.planFile(), "{}");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        start.start();
        long began = System.nanoTime();
        assertTrue(SupervisorMain.awaitPlan(paths, ProcessIdentity.current(), Duration.ofSeconds(20)));
        assertTrue(System.nanoTime() - began < TimeUnit.SECONDS.toNanos(10), "it went on when the plan came");
        start.join();
    }

    @Test
    void aStartThatEndedWithoutThePlanLetsTheSupervisorExit(@TempDir Path dir) throws Exception {
        SessionPaths paths = paths(dir);
        Process ended = new ProcessBuilder("sleep", "0.2").start();
        ProcessIdentity launcher = ProcessIdentity.of(ended.pid()).orElseThrow();
        assertTrue(ended.waitFor(10, TimeUnit.SECONDS));
        long began = System.nanoTime();
        assertFalse(SupervisorMain.awaitPlan(paths, launcher, Duration.ofSeconds(20)));
        assertTrue(System.nanoTime() - began < TimeUnit.SECONDS.toNanos(10), "it did not wait for the timeout");
        // Control: the same ended start, with its plan recorded before it ended, lets the supervisor go on.
        Files.writeString(paths.planFile(), "{}");
        assertTrue(SupervisorMain.awaitPlan(paths, launcher, Duration.ofSeconds(20)));
    }

    @Test
    void aPlanThatNeverComesEndsTheWaitAtTheTimeout(@TempDir Path dir) throws Exception {
        assertFalse(SupervisorMain.awaitPlan(paths(dir), ProcessIdentity.current(), Duration.ofMillis(200)));
    }
}
