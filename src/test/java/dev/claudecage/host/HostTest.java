package dev.claudecage.host;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HostTest {

    @AfterEach
    void forgetTheLaunchersAnswer() {
        System.clearProperty(Host.TERMINALS_PROPERTY);
    }

    @Test
    void takesTheLaunchersAnswerForTheStandardDescriptors() {
        System.setProperty(Host.TERMINALS_PROPERTY, "1");
        assertFalse(Host.isTerminal(0));
        assertTrue(Host.isTerminal(1));
        assertFalse(Host.isTerminal(2));
    }

    @Test
    void withoutTheLaunchersAnswerAsksTheCLibrary() {
        // Surefire gives the test JVM pipes, never a terminal: the launcher's "all three" must not be what decides.
        System.setProperty(Host.TERMINALS_PROPERTY, "012");
        assertTrue(Host.isTerminal(1));
        System.clearProperty(Host.TERMINALS_PROPERTY);
        assertFalse(Host.isTerminal(1), "isatty on the test's own stdout, a pipe");
    }
}
