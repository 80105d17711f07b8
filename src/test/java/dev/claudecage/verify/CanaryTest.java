package dev.claudecage.verify;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class CanaryTest {

    /**
     * verify closes a cage's gateway canaries and opens them again on the same ports for the next cage; a port
     * still held for a moment after close made the idle-port canary fail to bind, and the positive control of
     * gateway-idle-ports-closed then ran with no listener and could not show its hole.
     */
    @Test
    void aClosedCanarysPortCanBeListenedOnAgainAtOnce() {
        Canary first = Canary.open(List.of("127.0.0.1"), List.of(0), List.of());
        int port = first.port("127.0.0.1", "tcp");
        first.close();
        for (int reopened = 0; reopened < 200; reopened++) {
            Canary again = Canary.open(List.of("127.0.0.1"), List.of(port), List.of());
            assertEquals(port, again.port("127.0.0.1", "tcp"));
            again.close();
        }
    }
}
