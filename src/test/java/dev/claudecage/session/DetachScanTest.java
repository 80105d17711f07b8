package dev.claudecage.session;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DetachScanTest {

    private static final byte P = AttachClient.CTRL_P;
    private static final byte Q = AttachClient.CTRL_Q;

    @Test
    void ctrlPCtrlQDetachesAndIsNotForwarded() {
        AttachClient.DetachScan scan = AttachClient.DetachScan.scan(new byte[] {'l', 's', P, Q, 'x'}, false);
        assertTrue(scan.detach());
        assertArrayEquals(new byte[] {'l', 's'}, scan.forward());
    }

    @Test
    void ctrlPFollowedByAnythingElseIsForwarded() {
        AttachClient.DetachScan scan = AttachClient.DetachScan.scan(new byte[] {P, 'a', P, P, 'b'}, false);
        assertFalse(scan.detach());
        assertArrayEquals(new byte[] {P, 'a', P, P, 'b'}, scan.forward());
    }

    @Test
    void theSequenceMaySpanTwoReads() {
        AttachClient.DetachScan first = AttachClient.DetachScan.scan(new byte[] {'a', P}, false);
        assertArrayEquals(new byte[] {'a'}, first.forward());
        assertTrue(first.pendingCtrlP());
        AttachClient.DetachScan second = AttachClient.DetachScan.scan(new byte[] {Q}, first.pendingCtrlP());
        assertTrue(second.detach());
        assertArrayEquals(new byte[0], second.forward());
        AttachClient.DetachScan other = AttachClient.DetachScan.scan(new byte[] {'z'}, true);
        assertFalse(other.detach());
        assertArrayEquals(new byte[] {P, 'z'}, other.forward());
    }
}
