package dev.claudecage.session;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JanitorTest {

    @Test
    void sessionContainerIdsNameTheirSession() {
        SessionName name = SessionName.of("brisk-otter");
        String id = Janitor.newContainerId(name);
        assertTrue(id.matches("s-brisk-otter-[0-9a-f]{12}"), id);
        assertEquals(name, Janitor.sessionOf(id).orElseThrow());
        assertTrue(Janitor.sessionOf("run-0123456789ab").isEmpty());
        assertTrue(Janitor.sessionOf("s-x").isEmpty());
    }

    @Test
    void vethLinesAreReadWithTheirPeerNamespace() {
        HostLeftovers.Link link = Janitor.parseLink("148: cgh99@if147: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN "
                + "mode DEFAULT group default qlen 1000\\    link/ether 36:92:f6:2b:ce:af brd ff:ff:ff:ff:ff:ff "
                + "link-netns claude-cage-s-a-000000000000");
        assertEquals(new HostLeftovers.Link("cgh99", "claude-cage-s-a-000000000000"), link);
        assertEquals(new HostLeftovers.Link("cgc3", null), Janitor.parseLink("9: cgc3@cgh3: <BROADCAST> mtu 1500"));
        assertNull(Janitor.parseLink("2: eth0: <BROADCAST> mtu 1500"));
        assertNull(Janitor.parseLink("5: cghost: <BROADCAST> mtu 1500"));
    }

    @Test
    void mountinfoEscapesAreDecoded() {
        assertEquals("/run/claude-cage/runs/a b", Janitor.unescapeMountinfo("/run/claude-cage/runs/a\\040b"));
        assertEquals("/plain", Janitor.unescapeMountinfo("/plain"));
    }

    @Test
    void oneShotLaunchersAreRecognised() {
        assertTrue(Janitor.isOneShotLauncher(List.of("java", "-jar", "/x/claude-cage.jar", "run", "--", "id")));
        assertTrue(Janitor.isOneShotLauncher(List.of("java", "-cp", "c", "dev.claudecage.cli.Main", "verify")));
        assertFalse(Janitor.isOneShotLauncher(List.of("java", "-jar", "/x/claude-cage.jar", "start", "-d")));
        assertFalse(Janitor.isOneShotLauncher(List.of("sleep", "run")));
    }

    @Test
    void runtimeListOutputIsParsed() {
        assertEquals(List.of(), HostProbe.parseList("runc", "null"));
        assertEquals(List.of(new RuntimeContainer("runc", "s-a-000000000000", 12, "running")),
                HostProbe.parseList("runc", "[{\"ociVersion\":\"1.0.2\",\"id\":\"s-a-000000000000\",\"pid\":12,"
                        + "\"status\":\"running\",\"bundle\":\"/b\"}]"));
    }
}
