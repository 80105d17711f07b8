package dev.claudecage.net.dns;

import dev.claudecage.net.AuditEvent;
import dev.claudecage.net.EgressPolicy;
import dev.claudecage.net.HostRule;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.NioClient;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The stub on 127.0.0.1, asked by dnsjava's own client and by raw packets; it answers from the policy alone. */
class DnsStubTest {

    private static final Inet4Address GATEWAY4 = (Inet4Address) literal("10.213.0.1");
    private static final Inet6Address GATEWAY6 = (Inet6Address) literal("fd63:6167:6500::1");
    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final int NO_ANSWER_MILLIS = 300;

    private final EgressPolicy policy = new EgressPolicy(List.of(HostRule.parse("api.anthropic.com"),
            HostRule.parse("*.example.test:8443")), Map.of(), 1L << 30, 64);
    private final List<AuditEvent> audit = new CopyOnWriteArrayList<>();
    private DnsStub stub;

    private static InetAddress literal(String address) {
        try {
            return InetAddress.getByName(address);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @BeforeEach
    void start() {
        stub = DnsStub.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), policy, GATEWAY4, GATEWAY6,
                audit::add);
    }

    @AfterEach
    void stop() {
        stub.close();
    }

    @AfterAll
    static void stopDnsjavaClientThreads() {
        NioClient.close();
    }

    private Message ask(String name, int type, boolean tcp) throws IOException {
        SimpleResolver resolver = new SimpleResolver(stub.address());
        resolver.setTCP(tcp);
        resolver.setTimeout(WAIT);
        return resolver.send(Message.newQuery(Record.newRecord(Name.fromString(name, Name.root), type, DClass.IN)));
    }

    private Message ask(String name, int type) throws IOException {
        return ask(name, type, false);
    }

    private AuditEvent lastAudit() {
        assertFalse(audit.isEmpty(), "nothing audited");
        return audit.get(audit.size() - 1);
    }

    private static void assertNoRecursion(Message response) {
        assertTrue(response.getHeader().getFlag(Flags.QR));
        assertFalse(response.getHeader().getFlag(Flags.RA), "the stub must not offer recursion");
    }

    @Test
    void answersAnAllowedNamesAWithTheGatewayAddress() throws IOException {
        Message response = ask("api.anthropic.com.", Type.A);

        assertEquals(Rcode.NOERROR, response.getRcode());
        assertNoRecursion(response);
        assertTrue(response.getHeader().getFlag(Flags.AA));
        List<Record> answers = response.getSection(Section.ANSWER);
        assertEquals(1, answers.size());
        ARecord answer = (ARecord) answers.get(0);
        assertEquals(GATEWAY4, answer.getAddress());
        assertEquals(DnsResponder.TTL_SECONDS, answer.getTTL());
        AuditEvent event = lastAudit();
        assertEquals(DnsStub.AUDIT_SOURCE, event.source());
        assertEquals("api.anthropic.com", event.destination());
        assertEquals(AuditEvent.ALLOWED, event.decision());
        assertEquals("A answered 10.213.0.1 (the gateway); answered locally, nothing forwarded", event.reason());
    }

    /**
     * Attack 7: a name the API gateway holds the key for resolves to the gateway even when allowed_hosts does not
     * list it, so what the cage sends there meets the gateway's listeners; the audit line says why.
     */
    @Test
    void attack7TheApiHostsResolveToTheGatewayWhateverTheAllowlist() throws IOException {
        EgressPolicy reserving = new EgressPolicy(List.of(HostRule.parse("api.anthropic.com")), Map.of(), 1L << 30, 64,
                Set.of("api.anthropic.com", "llm.corp.test"));
        try (DnsStub reserved = DnsStub.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), reserving,
                GATEWAY4, GATEWAY6, audit::add)) {
            for (String name : List.of("api.anthropic.com.", "LLM.corp.test.")) {
                SimpleResolver resolver = new SimpleResolver(reserved.address());
                resolver.setTimeout(WAIT);
                Message a = resolver.send(Message.newQuery(Record.newRecord(Name.fromString(name), Type.A, DClass.IN)));
                assertEquals(Rcode.NOERROR, a.getRcode(), name);
                assertEquals(GATEWAY4, ((ARecord) a.getSection(Section.ANSWER).get(0)).getAddress(), name);
                Message aaaa = resolver.send(Message.newQuery(Record.newRecord(Name.fromString(name), Type.AAAA, DClass.IN)));
                assertEquals(GATEWAY6, ((AAAARecord) aaaa.getSection(Section.ANSWER).get(0)).getAddress(), name);
            }
        }
        assertEquals("AAAA answered fd63:6167:6500:0:0:0:0:1 (the gateway); the API gateway holds your key: "
                + "llm.corp.test only through it; answered locally, nothing forwarded", lastAudit().reason());
        assertEquals(AuditEvent.ALLOWED, lastAudit().decision());
    }

    @Test
    void answersAnAllowedNamesAaaaWithTheGatewayAddress() throws IOException {
        Message response = ask("api.anthropic.com.", Type.AAAA);

        assertEquals(Rcode.NOERROR, response.getRcode());
        List<Record> answers = response.getSection(Section.ANSWER);
        assertEquals(1, answers.size());
        assertEquals(GATEWAY6, ((AAAARecord) answers.get(0)).getAddress());
        assertTrue(lastAudit().reason().startsWith("AAAA answered fd63:6167:6500:0:0:0:0:1"), lastAudit().reason());
    }

    @Test
    void matchesNamesWhateverTheirCaseAndWildcardsBelowTheirDomainOnly() throws IOException {
        assertEquals(GATEWAY4, ((ARecord) ask("API.Anthropic.COM.", Type.A).getSection(Section.ANSWER).get(0)).getAddress());
        assertEquals(GATEWAY4, ((ARecord) ask("mirror.example.test.", Type.A).getSection(Section.ANSWER).get(0)).getAddress());
        assertEquals(Rcode.NXDOMAIN, ask("example.test.", Type.A).getRcode());
        assertEquals(Rcode.NXDOMAIN, ask("api.anthropic.com.evil.test.", Type.A).getRcode());
        assertEquals(Rcode.NXDOMAIN, ask("xapi.anthropic.com.", Type.A).getRcode());
    }

    @ParameterizedTest(name = "{0} for an allowed name: NOERROR, no records")
    @ValueSource(strings = {"TXT", "NULL", "ANY", "MX", "CNAME", "SRV", "HTTPS", "SVCB", "NS", "SOA", "PTR", "CAA"})
    void servesNoOtherTypeForAnAllowedName(String typeName) throws IOException {
        int type = Type.value(typeName);

        Message response = ask("api.anthropic.com.", type);

        assertEquals(Rcode.NOERROR, response.getRcode());
        assertNoRecursion(response);
        assertEquals(List.of(), response.getSection(Section.ANSWER));
        assertEquals(List.of(), response.getSection(Section.AUTHORITY));
        AuditEvent event = lastAudit();
        assertEquals(AuditEvent.DENIED, event.decision());
        assertEquals(typeName + " not served: empty NOERROR; answered locally, nothing forwarded", event.reason());
    }

    @Test
    void answersNxdomainForAnyOtherName() throws IOException {
        Message response = ask("canary.test.", Type.A);

        assertEquals(Rcode.NXDOMAIN, response.getRcode());
        assertNoRecursion(response);
        assertEquals(List.of(), response.getSection(Section.ANSWER));
        AuditEvent event = lastAudit();
        assertEquals("canary.test", event.destination());
        assertEquals(AuditEvent.DENIED, event.decision());
        assertEquals("A NXDOMAIN: not on the allowlist; answered locally, nothing forwarded", event.reason());
    }

    @Test
    void aNameCarryingDataStaysHere() throws IOException {
        // What a DNS tunnel sends: labels of encoded data under the attacker's domain, asking for recursion.
        Random random = new Random(42);
        StringBuilder name = new StringBuilder();
        for (int label = 0; label < 3; label++) {
            for (int i = 0; i < 63; i++) {
                name.append("abcdefghijklmnopqrstuvwxyz234567".charAt(random.nextInt(32)));
            }
            name.append('.');
        }
        name.append("exfil.attacker.test.");
        Message query = Message.newQuery(Record.newRecord(Name.fromString(name.toString()), Type.TXT, DClass.IN));
        assertTrue(query.getHeader().getFlag(Flags.RD), "the query asks for recursion");

        long started = System.nanoTime();
        SimpleResolver resolver = new SimpleResolver(stub.address());
        resolver.setTimeout(WAIT);
        Message response = resolver.send(query);
        long millis = (System.nanoTime() - started) / 1_000_000;

        assertEquals(Rcode.NXDOMAIN, response.getRcode());
        assertNoRecursion(response);
        assertTrue(response.getHeader().getFlag(Flags.RD), "RD is echoed, as the protocol asks");
        AuditEvent event = lastAudit();
        assertEquals(name.substring(0, name.length() - 1), event.destination());
        assertEquals(AuditEvent.DENIED, event.decision());
        assertTrue(event.reason().endsWith("answered locally, nothing forwarded"), event.reason());
        assertTrue(millis < WAIT.toMillis(), "answered at once, without waiting on anyone: " + millis + " ms");
    }

    @Test
    void answersOverTcpOnTheSamePort() throws IOException {
        Message response = ask("api.anthropic.com.", Type.A, true);

        assertEquals(Rcode.NOERROR, response.getRcode());
        assertEquals(GATEWAY4, ((ARecord) response.getSection(Section.ANSWER).get(0)).getAddress());
        assertEquals(Rcode.NXDOMAIN, ask("canary.test.", Type.A, true).getRcode());
    }

    @Test
    void answersEdnsWithEdns() throws IOException {
        SimpleResolver resolver = new SimpleResolver(stub.address());
        resolver.setTimeout(WAIT);
        resolver.setEDNS(0, 1232, 0, List.of());

        Message response = resolver.send(Message.newQuery(Record.newRecord(Name.fromString("api.anthropic.com."),
                Type.A, DClass.IN)));

        assertNotNull(response.getOPT());
        assertEquals(DnsResponder.EDNS_PAYLOAD, response.getOPT().getPayloadSize());
    }

    /** Sends a raw datagram; the reply, or empty when none came within a short wait. */
    private Optional<byte[]> sendRaw(byte[] packet) throws IOException {
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            socket.setSoTimeout(NO_ANSWER_MILLIS);
            socket.send(new DatagramPacket(packet, packet.length, stub.address()));
            byte[] buffer = new byte[4096];
            DatagramPacket reply = new DatagramPacket(buffer, buffer.length);
            try {
                socket.receive(reply);
            } catch (SocketTimeoutException none) {
                return Optional.empty();
            }
            return Optional.of(java.util.Arrays.copyOf(buffer, reply.getLength()));
        }
    }

    private void assertStillAnswers() throws IOException {
        assertEquals(Rcode.NOERROR, ask("api.anthropic.com.", Type.A).getRcode());
    }

    @Test
    void dropsAPacketTooShortForAHeader() throws IOException {
        assertEquals(Optional.empty(), sendRaw(new byte[]{1, 2, 3, 4, 5}));

        assertEquals("a malformed query (shorter than a DNS header): dropped", lastAudit().reason());
        assertStillAnswers();
    }

    @Test
    void answersFormerrToAnUnreadableQueryWithAReadableHeader() throws IOException {
        ByteBuffer packet = ByteBuffer.allocate(40);
        packet.putShort((short) 0x1234).putShort((short) 0x0100).putShort((short) 1).putShort((short) 0)
                .putShort((short) 0).putShort((short) 0);
        packet.put(new byte[]{63, 'a', 'b'}); // a label that claims 63 bytes and has 2

        Message response = new Message(sendRaw(packet.array()).orElseThrow());

        assertEquals(0x1234, response.getHeader().getID());
        assertEquals(Rcode.FORMERR, response.getRcode());
        assertEquals(List.of(), response.getSection(Section.ANSWER));
        assertEquals("a malformed query: FORMERR; answered locally, nothing forwarded", lastAudit().reason());
        assertStillAnswers();
    }

    @Test
    void refusesTwoQuestionsInOneQuery() throws IOException {
        Message query = Message.newQuery(Record.newRecord(Name.fromString("api.anthropic.com."), Type.A, DClass.IN));
        query.addRecord(Record.newRecord(Name.fromString("canary.test."), Type.A, DClass.IN), Section.QUESTION);

        Message response = new Message(sendRaw(query.toWire()).orElseThrow());

        assertEquals(Rcode.FORMERR, response.getRcode());
        assertEquals(List.of(), response.getSection(Section.ANSWER));
        assertEquals("2 questions in one query: FORMERR; answered locally, nothing forwarded", lastAudit().reason());
    }

    @Test
    void neverAnswersAResponse() throws IOException {
        Message notAQuery = Message.newQuery(Record.newRecord(Name.fromString("api.anthropic.com."), Type.A, DClass.IN));
        notAQuery.getHeader().setFlag(Flags.QR);

        assertEquals(Optional.empty(), sendRaw(notAQuery.toWire()));
        assertEquals("a DNS response, not a query: dropped", lastAudit().reason());
    }

    @Test
    void answersNotimpToOtherOpcodes() throws IOException {
        Message update = Message.newQuery(Record.newRecord(Name.fromString("api.anthropic.com."), Type.SOA, DClass.IN));
        update.getHeader().setOpcode(Opcode.UPDATE);

        Message response = new Message(sendRaw(update.toWire()).orElseThrow());

        assertEquals(Rcode.NOTIMP, response.getRcode());
        assertEquals(AuditEvent.DENIED, lastAudit().decision());
    }

    @Test
    void refusesOtherClasses() throws IOException {
        Message chaos = Message.newQuery(Record.newRecord(Name.fromString("version.bind."), Type.TXT, DClass.CH));

        Message response = new Message(sendRaw(chaos.toWire()).orElseThrow());

        assertEquals(Rcode.REFUSED, response.getRcode());
        assertEquals(List.of(), response.getSection(Section.ANSWER));
    }

    @Test
    void refusesAQueryThatCarriesRecords() throws IOException {
        Message query = Message.newQuery(Record.newRecord(Name.fromString("api.anthropic.com."), Type.A, DClass.IN));
        query.addRecord(new ARecord(Name.fromString("api.anthropic.com."), DClass.IN, 60, literal("192.0.2.1")),
                Section.ANSWER);

        Message response = new Message(sendRaw(query.toWire()).orElseThrow());

        assertEquals(Rcode.FORMERR, response.getRcode());
        assertEquals(List.of(), response.getSection(Section.ANSWER));
    }

    @Test
    void dropsAnOversizedDatagram() throws IOException {
        Message query = Message.newQuery(Record.newRecord(Name.fromString("api.anthropic.com."), Type.A, DClass.IN));
        byte[] wire = query.toWire();
        byte[] padded = java.util.Arrays.copyOf(wire, DnsStub.MAX_MESSAGE_BYTES + 100);

        assertEquals(Optional.empty(), sendRaw(padded));
        assertTrue(lastAudit().reason().startsWith("a UDP query over"), lastAudit().reason());
        assertStillAnswers();
    }

    @Test
    void closesATcpConnectionThatAnnouncesAnOversizedQuery() throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(stub.address(), (int) WAIT.toMillis());
            socket.setSoTimeout((int) WAIT.toMillis());
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.writeShort(60_000);
            out.write(new byte[1000]);
            out.flush();

            assertEquals(-1, socket.getInputStream().read(), "the stub closes the connection without answering");
        }
        assertTrue(lastAudit().reason().startsWith("a TCP query of 60000 bytes"), lastAudit().reason());
    }

    @Test
    void takesSeveralQueriesOnOneTcpConnection() throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(stub.address(), (int) WAIT.toMillis());
            socket.setSoTimeout((int) WAIT.toMillis());
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            DataInputStream in = new DataInputStream(socket.getInputStream());
            for (String name : List.of("api.anthropic.com.", "canary.test.")) {
                byte[] query = Message.newQuery(Record.newRecord(Name.fromString(name), Type.A, DClass.IN)).toWire();
                out.writeShort(query.length);
                out.write(query);
                out.flush();
                byte[] response = new byte[in.readUnsignedShort()];
                in.readFully(response);
                assertEquals(name.startsWith("api") ? Rcode.NOERROR : Rcode.NXDOMAIN, new Message(response).getRcode());
            }
        }
    }

    @Test
    void auditsEveryQuery() throws IOException {
        ask("api.anthropic.com.", Type.A);
        ask("api.anthropic.com.", Type.TXT);
        ask("canary.test.", Type.AAAA, true);

        assertEquals(List.of(AuditEvent.ALLOWED, AuditEvent.DENIED, AuditEvent.DENIED),
                audit.stream().map(AuditEvent::decision).toList());
        assertEquals(List.of("api.anthropic.com", "api.anthropic.com", "canary.test"),
                audit.stream().map(AuditEvent::destination).toList());
        assertTrue(audit.stream().allMatch(event -> DnsStub.AUDIT_SOURCE.equals(event.source()) && event.port() == null
                && event.bytesSent() == null));
    }

    @Test
    void freesItsPortWhenClosed() throws IOException {
        InetSocketAddress address = stub.address();
        stub.close();

        try (DatagramSocket udp = new DatagramSocket(address);
             java.net.ServerSocket tcp = new java.net.ServerSocket(address.getPort(), 1, address.getAddress())) {
            assertEquals(address.getPort(), udp.getLocalPort());
            assertEquals(address.getPort(), tcp.getLocalPort());
        }
        stub = DnsStub.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), policy, GATEWAY4, GATEWAY6,
                audit::add);
    }

    @Test
    void respondsIdenticallyToTheSameQuery() {
        DnsResponder responder = new DnsResponder(policy, GATEWAY4, GATEWAY6);
        byte[] query = Message.newQuery(Record.newRecord(name("api.anthropic.com."), Type.A, DClass.IN)).toWire();

        byte[] first = responder.respond(query).response().orElseThrow();
        byte[] second = responder.respond(query).response().orElseThrow();

        assertArrayEquals(first, second);
        assertNull(responder.respond(new byte[0]).response().orElse(null));
    }

    @Test
    void withoutAnIpv6WayOutAaaaForAnAllowedNameHasNoRecordAndADeniedNameIsStillNxdomain() throws IOException {
        DnsResponder responder = new DnsResponder(policy, GATEWAY4, null);

        DnsResponder.Outcome allowed = responder.respond(Message.newQuery(
                Record.newRecord(name("api.anthropic.com."), Type.AAAA, DClass.IN)).toWire());
        Message answer = new Message(allowed.response().orElseThrow());
        assertEquals(Rcode.NOERROR, answer.getRcode());
        assertTrue(answer.getSection(Section.ANSWER).isEmpty(), answer.toString());
        assertEquals(AuditEvent.ALLOWED, allowed.event().decision());
        assertTrue(allowed.event().reason().contains("IPv4 only"), allowed.event().reason());

        Message a = new Message(responder.respond(Message.newQuery(
                Record.newRecord(name("api.anthropic.com."), Type.A, DClass.IN)).toWire()).response().orElseThrow());
        assertEquals(GATEWAY4, ((ARecord) a.getSection(Section.ANSWER).get(0)).getAddress());

        DnsResponder.Outcome denied = responder.respond(Message.newQuery(
                Record.newRecord(name("canary.test."), Type.AAAA, DClass.IN)).toWire());
        assertEquals(Rcode.NXDOMAIN, new Message(denied.response().orElseThrow()).getRcode());
        assertEquals(AuditEvent.DENIED, denied.event().decision());
    }

    private static Name name(String text) {
        try {
            return Name.fromString(text);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
