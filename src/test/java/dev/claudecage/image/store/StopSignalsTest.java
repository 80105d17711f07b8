package dev.claudecage.image.store;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class StopSignalsTest {

    @Test
    void namesWithOrWithoutSigInAnyCaseAndNumbersAreReadAsDockerReadsThem() {
        assertEquals(3, StopSignals.number("SIGQUIT"));
        assertEquals(3, StopSignals.number("quit"));
        assertEquals(15, StopSignals.number("SIGterm"));
        assertEquals(9, StopSignals.number("9"));
        assertEquals(28, StopSignals.number("SIGWINCH"));
        assertThrows(IllegalArgumentException.class, () -> StopSignals.number("SIGNOPE"));
        assertThrows(IllegalArgumentException.class, () -> StopSignals.number("0"));
        assertThrows(IllegalArgumentException.class, () -> StopSignals.number("65"));
        assertThrows(IllegalArgumentException.class, () -> StopSignals.number(""));
    }
}
