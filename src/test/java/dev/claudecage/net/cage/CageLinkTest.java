package dev.claudecage.net.cage;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class CageLinkTest {

    private static final String POOL4 = "10.213.0.0/16";
    private static final String POOL6 = "fd63:6167:6500::/48";

    @Test
    void slotZeroTakesTheFirstSubnets() {
        CageLink link = CageLink.allocate("run-0123456789ab", 0, POOL4, POOL6);
        assertEquals("10.213.0.1", link.gateway4());
        assertEquals("10.213.0.2", link.cageAddress4().getHostAddress());
        assertEquals("fd63:6167:6500:0:0:0:0:1", link.gateway6());
        assertEquals("fd63:6167:6500:0:0:0:0:2", link.cageAddress6().getHostAddress());
        assertEquals("claude-cage-run-0123456789ab", link.netnsName());
        assertEquals("cgh0", link.hostInterface());
    }

    @Test
    void slotsAreConsecutiveSubnetsAndCarryAcrossOctets() {
        CageLink link = CageLink.allocate("x", 70, POOL4, POOL6);
        assertEquals("10.213.1.25", link.gateway4());
        assertEquals("fd63:6167:6500:46:0:0:0:1", link.gateway6());
        CageLink last = CageLink.allocate("x", CageLink.capacity(POOL4, POOL6) - 1, POOL4, POOL6);
        assertEquals("10.213.255.253", last.gateway4());
        assertEquals("cgh16383", last.hostInterface());
    }

    @Test
    void capacityIsTheSmallerPool() {
        assertEquals(16384, CageLink.capacity(POOL4, POOL6));
        assertEquals(4, CageLink.capacity("10.1.2.0/28", POOL6));
        assertEquals(16, CageLink.capacity(POOL4, "fd00:1:2:30::/60"));
    }

    @Test
    void aSlotOutsideThePoolIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> CageLink.allocate("x", 4, "10.1.2.0/28", POOL6));
        assertThrows(IllegalArgumentException.class, () -> CageLink.allocate("x", -1, POOL4, POOL6));
    }
}
