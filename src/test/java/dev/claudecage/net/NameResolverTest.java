package dev.claudecage.net;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The proxy's resolver: pins first, then the configured DNS server only (a fake one on
 * 127.0.0.1, built with dnsjava), and no private answers for names that are not pinned.
 */
class NameResolverTest {

    private static final Duration TIMEOUT = Duration.ofMillis(500);

    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        Collections.reverse(toClose);
        for (AutoCloseable closeable : toClose) {
            closeable.close();
        }
    }

    @Test
    void asksTheConfiguredServerForBothFamilies() throws Exception {
        FakeDns dns = start(new FakeDns(true)
                .answer("public.test", a("public.test", "1.2.3.10"), aaaa("public.test", "2a00:1450::10")));

        NameResolver.Resolved resolved = resolved(resolverFor(dns, policy()).resolve("Public.Test."));

        assertEquals(List.of(ip("1.2.3.10"), ip("2a00:1450::10")), resolved.addresses());
        assertFalse(resolved.pinned());
        assertEquals(List.of("public.test. A", "public.test. AAAA"), dns.sortedQuestions());
    }

    @Test
    void followsTheCnameChainAndIgnoresRecordsForOtherNames() throws Exception {
        FakeDns dns = start(new FakeDns(true).answer("alias.test",
                cname("alias.test", "target.test"), a("target.test", "1.2.3.11"), a("unrelated.test", "1.2.3.99")));

        assertEquals(List.of(ip("1.2.3.11")), resolved(resolverFor(dns, policy()).resolve("alias.test")).addresses());
    }

    @Test
    void aNameTheServerDoesNotKnowFails() throws Exception {
        FakeDns dns = start(new FakeDns(true));

        NameResolver.Failed failed = assertInstanceOf(NameResolver.Failed.class,
                resolverFor(dns, policy()).resolve("missing.test"));

        assertEquals("cannot resolve missing.test: the DNS server answered NXDOMAIN", failed.reason());
    }

    @Test
    void theHostsFileIsNeverConsulted() throws Exception {
        FakeDns dns = start(new FakeDns(true));

        assertInstanceOf(NameResolver.Failed.class, resolverFor(dns, policy()).resolve("localhost"));
        assertEquals(List.of("localhost. A", "localhost. AAAA"), dns.sortedQuestions());
    }

    @Test
    void aServerThatDoesNotAnswerFailsWithinTheTimeout() throws Exception {
        FakeDns silent = start(new FakeDns(false));
        long start = System.nanoTime();

        NameResolver.Failed failed = assertInstanceOf(NameResolver.Failed.class,
                resolverFor(silent, policy()).resolve("slow.test"));

        assertTrue(failed.reason().startsWith("cannot resolve slow.test: no answer from the DNS server 127.0.0.1"),
                failed.reason());
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(3), "took too long");
    }

    @Test
    void pinnedNamesComeFirstAndMayBePrivate() throws Exception {
        FakeDns dns = start(new FakeDns(true).answer("mirror.test", a("mirror.test", "1.2.3.12")));
        EgressPolicy policy = new EgressPolicy(List.of(), Map.of("mirror.test", List.of(ip("10.0.0.5"))), 1, 1);

        NameResolver.Resolved resolved = resolved(resolverFor(dns, policy).resolve("MIRROR.test"));

        assertEquals(List.of(ip("10.0.0.5")), resolved.addresses());
        assertTrue(resolved.pinned());
        assertEquals(List.of(), dns.sortedQuestions(), "a pinned name is never asked of DNS");
    }

    @Test
    void aPrivateAnswerForANameThatIsNotPinnedIsRefused() throws Exception {
        FakeDns dns = start(new FakeDns(true)
                .answer("rebind.test", a("rebind.test", "127.0.0.1"))
                .answer("mixed.test", a("mixed.test", "1.2.3.13"), aaaa("mixed.test", "fd00::1")));
        NameResolver resolver = resolverFor(dns, policy());

        assertEquals("rebind.test resolves to 127.0.0.1, a loopback address; "
                        + "only names pinned with resolve may reach such addresses",
                assertInstanceOf(NameResolver.Refused.class, resolver.resolve("rebind.test")).reason());
        assertTrue(assertInstanceOf(NameResolver.Refused.class, resolver.resolve("mixed.test")).reason()
                .startsWith("mixed.test resolves to fd00:0:0:0:0:0:0:1, a unique local address"));
    }

    @Test
    void ipLiteralsAreRefusedWithoutAskingAnyone() throws Exception {
        FakeDns dns = start(new FakeDns(true));
        NameResolver resolver = resolverFor(dns, policy());

        for (String literal : List.of("127.0.0.1", "[::1]", "::ffff:127.0.0.1", "2130706433", "0x7f.1", "192.0.2.1")) {
            assertEquals(literal + " is an IP address; only host names from allowed_hosts can be reached",
                    assertInstanceOf(NameResolver.Refused.class, resolver.resolve(literal)).reason());
        }
        assertEquals(List.of(), dns.sortedQuestions());
    }

    @Test
    void thePinsOnlyResolverNeverLooksFurther() {
        EgressPolicy policy = new EgressPolicy(List.of(), Map.of("mirror.test", List.of(ip("10.0.0.5"))), 1, 1);
        NameResolver resolver = NameResolver.pinnedOnly(policy);

        assertEquals(List.of(ip("10.0.0.5")), resolved(resolver.resolve("mirror.test")).addresses());
        assertTrue(assertInstanceOf(NameResolver.Failed.class, resolver.resolve("other.test")).reason()
                .contains("is not pinned"));
    }

    @Test
    void anAddressOfThisHostIsRefusedEvenWhenItIsPublic() throws Exception {
        Optional<InetAddress> own = NetworkInterface.networkInterfaces()
                .flatMap(NetworkInterface::inetAddresses)
                .filter(address -> NameResolver.restrictedRange(address).isEmpty())
                .findFirst();
        assumeTrue(own.isPresent(), "this host has no public address of its own");
        NameResolver resolver = new NameResolver(policy(), name -> List.of(own.get()));

        assertTrue(assertInstanceOf(NameResolver.Refused.class, resolver.resolve("self.test")).reason()
                .contains("an address of this host"));
    }

    @ParameterizedTest(name = "{0} is {1}")
    @CsvSource(delimiter = '|', value = {
        "127.0.0.1          | a loopback address",
        "127.255.0.9        | a loopback address",
        "0.0.0.0            | an unspecified (this-network) address",
        "0.1.2.3            | an unspecified (this-network) address",
        "169.254.169.254    | a link-local address",
        "10.1.2.3           | a private (RFC 1918) address",
        "172.16.0.1         | a private (RFC 1918) address",
        "172.31.255.255     | a private (RFC 1918) address",
        "192.168.1.1        | a private (RFC 1918) address",
        "100.64.0.1         | a shared (CGNAT) address",
        "100.127.255.255    | a shared (CGNAT) address",
        "224.0.0.1          | a multicast address",
        "240.0.0.1          | a reserved or broadcast address",
        "255.255.255.255    | a reserved or broadcast address",
        "::1                | a loopback address",
        "::                 | an unspecified address",
        "fe80::1            | a link-local address",
        "fc00::1            | a unique local address",
        "fd63:6167:6500::1  | a unique local address",
        "fec0::1            | a site-local address",
        "ff02::1            | a multicast address",
        "::7f00:1           | a loopback address inside an IPv6 address",
        "64:ff9b::a00:1     | a private (RFC 1918) address inside an IPv6 address",
        "2002:c0a8:101::1   | a private (RFC 1918) address inside a 6to4 address",
        "192.0.0.1          | an IETF protocol assignment (192.0.0.0/24)",
        "192.0.0.255        | an IETF protocol assignment (192.0.0.0/24)",
        "192.0.2.10         | a documentation address (TEST-NET-1)",
        "192.88.99.1        | a deprecated 6to4 relay anycast address",
        "198.18.0.1         | a benchmarking address",
        "198.19.255.255     | a benchmarking address",
        "198.51.100.1       | a documentation address (TEST-NET-2)",
        "203.0.113.1        | a documentation address (TEST-NET-3)",
        "64:ff9b:1::a00:1   | a local-use NAT64 address",
        "64:ff9b:1:ffff::1  | a local-use NAT64 address",
        "64:ff9b::c612:1    | a benchmarking address inside an IPv6 address",
        "64:ff9b::c000:1    | an IETF protocol assignment (192.0.0.0/24) inside an IPv6 address",
        "100::1             | a discard-only address",
        "2001::1            | an IETF protocol assignment (2001::/23: Teredo, benchmarking, ORCHID, ...)",
        "2001:2::1          | an IETF protocol assignment (2001::/23: Teredo, benchmarking, ORCHID, ...)",
        "2001:1ff::1        | an IETF protocol assignment (2001::/23: Teredo, benchmarking, ORCHID, ...)",
        "2001:db8::1        | a documentation address",
        "3fff:fff::1        | a documentation address",
        "2002:c000:201::1   | a documentation address (TEST-NET-1) inside a 6to4 address",
        "2002:c058:6301::1  | a deprecated 6to4 relay anycast address inside a 6to4 address",
        "::ffff:0:a00:1     | a private (RFC 1918) address inside an IPv6 address",
        "::808:808          | a reserved address (outside 2000::/3, the global unicast space)",
        "::ffff:0:808:808   | a reserved address (outside 2000::/3, the global unicast space)",
        "5f00::1            | a reserved address (outside 2000::/3, the global unicast space)",
        "4000::1            | a reserved address (outside 2000::/3, the global unicast space)",
    })
    void restrictedRanges(String address, String range) {
        assertEquals(Optional.of(range), NameResolver.restrictedRange(ip(address)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.1.1.1", "172.32.0.1", "100.128.0.1", "192.0.1.255", "192.0.3.0", "198.17.255.255",
        "198.20.0.0", "192.31.196.1", "2606:4700:4700::1111", "2001:200::1", "2620:4f:8000::1", "2002:101:101::1",
        "64:ff9b::101:101", "3fff:1000::1"})
    void publicAddressesAreNotRestricted(String address) {
        assertEquals(Optional.empty(), NameResolver.restrictedRange(ip(address)));
    }

    @Test
    void ipv4MappedIpv6AddressesAreJudgedByTheirIpv4Address() throws Exception {
        byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 10, 0, 0, 1};
        InetAddress address = Inet6Address.getByAddress(null, mapped, -1);

        assertEquals(Optional.of("a private (RFC 1918) address inside an IPv6 address"),
                NameResolver.restrictedRange(address));
        byte[] mappedPublic = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 1, 1, 1, 1};
        assertEquals(Optional.empty(), NameResolver.restrictedRange(Inet6Address.getByAddress(null, mappedPublic, -1)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.2.3.4", "127.1", "2130706433", "0x7f000001", "0177.0.0.1", "[::1]", "::1",
        "fe80::1%eth0", "1.2.3.4."})
    void ipLiteralsInEveryForm(String host) {
        assertTrue(NameResolver.isIpLiteral(host), host);
    }

    @ParameterizedTest
    @ValueSource(strings = {"api.anthropic.com", "1password.com", "x.1a", "localhost", "a-b.example"})
    void namesAreNotIpLiterals(String host) {
        assertFalse(NameResolver.isIpLiteral(host), host);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ".", "a..b", "-a.test", "a-.test", "a b.test", "a/b.test", "*.test", "a.test\n",
        "xn--\u00e9.test"})
    void invalidHostNames(String host) {
        assertFalse(NameResolver.isValidHostName(host), host);
    }

    @Test
    void hostNameLengthLimits() {
        assertTrue(NameResolver.isValidHostName("a".repeat(63) + ".test"));
        assertFalse(NameResolver.isValidHostName("a".repeat(64) + ".test"));
        assertFalse(NameResolver.isValidHostName(("a".repeat(60) + ".").repeat(5) + "test"));
    }

    /** dnsjava logs through slf4j: with the NOP binding nothing reaches the user's terminal. */
    @Test
    void dnsjavaPrintsNothing() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process process = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                Slf4jProbe.class.getName()).redirectErrorStream(true).start();
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), "the probe JVM did not finish");
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals("", output);
        assertEquals(0, process.exitValue());
    }

    /** Loads dnsjava's resolver, which creates its slf4j logger, in a JVM of its own. */
    static final class Slf4jProbe {
        public static void main(String[] args) {
            SimpleResolver resolver = new SimpleResolver(new InetSocketAddress(InetAddress.getLoopbackAddress(), 53));
            if (resolver.getPort() != 53) {
                System.exit(1);
            }
        }
    }

    private static EgressPolicy policy() {
        return new EgressPolicy(List.of(), Map.of(), 1, 1);
    }

    private static NameResolver resolverFor(FakeDns dns, EgressPolicy policy) {
        return NameResolver.usingDns(policy, dns.address(), TIMEOUT);
    }

    private static NameResolver.Resolved resolved(NameResolver.Resolution resolution) {
        return assertInstanceOf(NameResolver.Resolved.class, resolution);
    }

    private FakeDns start(FakeDns dns) {
        toClose.add(dns);
        dns.start();
        return dns;
    }

    private static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(literal, e);
        }
    }

    private static Name name(String text) {
        try {
            return Name.fromString(text, Name.root);
        } catch (IOException e) {
            throw new IllegalArgumentException(text, e);
        }
    }

    private static Record a(String owner, String address) {
        return new ARecord(name(owner), DClass.IN, 60, ip(address));
    }

    private static Record aaaa(String owner, String address) {
        return new AAAARecord(name(owner), DClass.IN, 60, ip(address));
    }

    private static Record cname(String owner, String target) {
        return new CNAMERecord(name(owner), DClass.IN, 60, name(target));
    }

    /**
     * A DNS server on 127.0.0.1 that answers from a fixed table, NXDOMAIN for names it does not
     * have, and records every question; or, when told not to answer, only records them.
     */
    private static final class FakeDns implements AutoCloseable {

        private static final int MAX_QUERIES = 100;

        private final boolean answers;
        private final Map<String, List<Record>> table = new HashMap<>();
        private final List<String> questions = new CopyOnWriteArrayList<>();
        private final DatagramSocket socket;
        private final Thread thread = new Thread(this::serve, "fake-dns");

        FakeDns(boolean answers) throws IOException {
            this.answers = answers;
            this.socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        }

        /** The records answered for this name, whatever the question's type (filtered by type on the way). */
        FakeDns answer(String name, Record... records) {
            table.put(name + ".", List.of(records));
            return this;
        }

        void start() {
            thread.setDaemon(true);
            thread.start();
        }

        InetSocketAddress address() {
            return new InetSocketAddress(InetAddress.getLoopbackAddress(), socket.getLocalPort());
        }

        List<String> sortedQuestions() {
            List<String> sorted = new ArrayList<>(questions);
            Collections.sort(sorted);
            return sorted;
        }

        private void serve() {
            byte[] buffer = new byte[4096];
            for (int i = 0; i < MAX_QUERIES; i++) {
                try {
                    DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                    socket.receive(packet);
                    Message query = new Message(Arrays.copyOf(packet.getData(), packet.getLength()));
                    Record question = query.getQuestion();
                    questions.add(question.getName() + " " + Type.string(question.getType()));
                    if (!answers) {
                        continue;
                    }
                    byte[] reply = reply(query, question).toWire();
                    socket.send(new DatagramPacket(reply, reply.length, packet.getSocketAddress()));
                } catch (IOException e) {
                    return;
                }
            }
        }

        private Message reply(Message query, Record question) {
            Message response = new Message(query.getHeader().getID());
            response.getHeader().setFlag(Flags.QR);
            response.getHeader().setFlag(Flags.RA);
            response.addRecord(question, Section.QUESTION);
            List<Record> records = table.get(question.getName().toString());
            if (records == null) {
                response.getHeader().setRcode(Rcode.NXDOMAIN);
                return response;
            }
            for (Record record : records) {
                if (record.getType() == question.getType() || record.getType() == Type.CNAME) {
                    response.addRecord(record, Section.ANSWER);
                }
            }
            return response;
        }

        @Override
        public void close() {
            socket.close();
            try {
                thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
