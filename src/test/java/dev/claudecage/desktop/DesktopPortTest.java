package dev.claudecage.desktop;

import dev.claudecage.UserInputException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DesktopPortTest {

    @Test
    void theDefaultIsLoopbackOnly() {
        DesktopPort port = DesktopPort.parse(DesktopPort.DEFAULT);
        assertEquals("127.0.0.1:6080:6080", port.format());
        assertTrue(port.loopbackOnly());
        assertEquals("http://127.0.0.1:6080/vnc.html", port.url());
    }

    @Test
    void withoutAnAddressItIsLoopback() {
        DesktopPort port = DesktopPort.parse("7000:6080");
        assertEquals("127.0.0.1:7000:6080", port.format());
        assertEquals(7000, port.listenAddress().getPort());
        assertEquals(6080, port.cagePort());
    }

    @Test
    void ipv6LiteralsAreBracketed() {
        DesktopPort port = DesktopPort.parse("[::1]:6081:6080");
        assertTrue(port.loopbackOnly());
        assertEquals("[0:0:0:0:0:0:0:1]:6081:6080", port.format());
        assertEquals(port, DesktopPort.parse(port.format()));
    }

    @Test
    void otherAddressesAreNotLoopbackAndTheUrlStillWorksOnThisHost() {
        DesktopPort any = DesktopPort.parse("0.0.0.0:6080:6080");
        assertFalse(any.loopbackOnly());
        assertEquals("http://127.0.0.1:6080/vnc.html", any.url());
        DesktopPort lan = DesktopPort.parse("192.168.7.9:6080:6080");
        assertFalse(lan.loopbackOnly());
        assertEquals("http://192.168.7.9:6080/vnc.html", lan.url());
    }

    @Test
    void badMappingsAreRefusedWithTheFormat() {
        for (String bad : new String[] {"6080", "localhost:6080:6080", "1.2.3:6080:6080", "300.1.1.1:6080:6080",
                "127.0.0.1:0:6080", "127.0.0.1:6080:70000", "[::1:6080:6080", "a:b", ""}) {
            UserInputException e = assertThrows(UserInputException.class, () -> DesktopPort.parse(bad), bad);
            assertTrue(e.getMessage().startsWith("--port '" + bad + "'"), e.getMessage());
            assertTrue(e.hint().contains("[ADDRESS:]HOSTPORT:CAGEPORT"), e.hint());
        }
    }
}
