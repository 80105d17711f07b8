package dev.claudecage.net;

import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DropLoggerTest {

    @Test
    void tcpDropBecomesADeniedEventWithDestinationAndPort() {
        AuditEvent event = DropLogger.parse("1795858241.374869 IP 10.213.0.2.48660 > 10.213.201.2.80: tcp 0").orElseThrow();
        assertEquals(Instant.ofEpochSecond(1795858241L, 374_869_000L), event.time());
        assertEquals("10.213.201.2", event.destination());
        assertEquals(80, event.port());
        assertEquals("denied", event.decision());
        assertEquals("firewall", event.source());
        assertEquals(0L, event.bytesSent());
    }

    @Test
    void udpOverIpv6KeepsTheWholeAddress() {
        AuditEvent event = DropLogger.parse(
                "1795858241.000001 IP6 fd63:6167:6500::2.40000 > fd63:6167:6500:c9::2.53: UDP, length 30").orElseThrow();
        assertEquals("fd63:6167:6500:c9::2", event.destination());
        assertEquals(53, event.port());
        assertEquals(30L, event.bytesSent());
        assertTrue(event.reason().contains("udp"));
    }

    @Test
    void icmpHasNoPort() {
        AuditEvent event = DropLogger.parse(
                "1795858241.5 IP 10.213.0.2 > 10.213.201.2: ICMP echo request, id 7, seq 1, length 64").orElseThrow();
        assertEquals("10.213.201.2", event.destination());
        assertEquals(null, event.port());
        assertEquals(64L, event.bytesSent());
    }

    @Test
    void linesThatAreNotPacketsAreIgnored() {
        assertTrue(DropLogger.parse("listening on nflog:7, link-type NFLOG").isEmpty());
        assertTrue(DropLogger.parse("").isEmpty());
    }
}
