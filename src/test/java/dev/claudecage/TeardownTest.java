package dev.claudecage;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TeardownTest {

    @Test
    void undoesLastFirstGoesOnPastFailuresAndNamesEach() {
        List<String> done = new ArrayList<>();
        Teardown teardown = new Teardown("cleanup of cage c1", "try gc");
        teardown.push("remove the folder", () -> done.add("folder"));
        teardown.push("unmount the root", () -> {
            done.add("unmount");
            throw new IOException("target is busy");
        });
        teardown.push("delete the container", () -> {
            done.add("container");
            throw new CageException("runc said no");
        });
        Teardown.Incomplete failure = assertThrows(Teardown.Incomplete.class, teardown::close);
        assertEquals(List.of("container", "unmount", "folder"), done);
        assertEquals("cleanup of cage c1 was incomplete: delete the container: runc said no; "
                + "unmount the root: target is busy", failure.getMessage());
        assertEquals("try gc", failure.hint());
        teardown.close();
        assertEquals(3, done.size(), "a second close has nothing left to undo");
    }

    @Test
    void aTeardownWithinOneIsToldStepByStep() {
        Teardown network = new Teardown("network teardown", null);
        network.push("delete the namespace", () -> {
            throw new CageException("busy");
        });
        Teardown cage = new Teardown("cleanup of cage c1", null);
        cage.push("take down its network", network);
        Teardown.Incomplete failure = assertThrows(Teardown.Incomplete.class, cage::close);
        assertEquals(List.of("take down its network: delete the namespace: busy"), failure.failures());
    }

    @Test
    void attemptRunsNowAndUndoReportsItsFailureWithoutThrowing() {
        List<String> done = new ArrayList<>();
        Teardown cleanup = new Teardown("gc", null);
        cleanup.push("release the lock", () -> done.add("lock released"));
        assertTrue(cleanup.attempt("first", () -> done.add("first")));
        assertFalse(cleanup.attempt("second", () -> {
            throw new IllegalStateException("gone wrong");
        }));
        assertEquals(List.of("second: gone wrong"), cleanup.undo());
        assertEquals(List.of("first", "lock released"), done);
    }

    @Test
    void closeAfterKeepsTheFirstFailureAndAddsTheCleanupsOwn() {
        RuntimeException cause = new CageException("mount failed");
        Teardown half = new Teardown("cleanup", null);
        half.push("remove", () -> {
            throw new CageException("busy");
        });
        assertSame(cause, Teardown.closeAfter(half, cause));
        assertEquals(1, cause.getSuppressed().length);
        assertEquals("cleanup was incomplete: remove: busy", cause.getSuppressed()[0].getMessage());
    }

    @Test
    void anInterruptedStepKeepsTheThreadInterrupted() {
        Teardown teardown = new Teardown("cleanup", null);
        teardown.push("wait", () -> {
            throw new InterruptedException();
        });
        assertEquals(List.of("wait: interrupted"), teardown.undo());
        assertTrue(Thread.interrupted(), "the interrupt is kept for the caller (and cleared here)");
    }
}
