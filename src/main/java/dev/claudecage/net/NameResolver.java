package dev.claudecage.net;

import dev.claudecage.config.CageConfig;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

/**
 * Turns the host names a cage asks for into the addresses the egress proxy connects to.
 * Pinned names (the {@code resolve} setting) come first and are trusted as given: the user listed
 * them. Every other name is asked of the configured DNS server directly, never of the host's own
 * resolver, so neither /etc/hosts nor the host's search domains can redirect it; and its answer is
 * refused when it points anywhere private (DNS rebinding: a public name that answers 127.0.0.1
 * would otherwise hand the cage the host's own services). Thread-safe.
 */
public record NameResolver(EgressPolicy policy, Lookup lookup) {

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(3);

    /** How a refusal of a name whose answer is a private or special-purpose address reads, after the name. */
    public static final String RESOLVES_TO = " resolves to ";
    // A top-level label is never all digits (RFC 3696 2), so a name ending in a number is an
    // address in one of the forms inet_aton accepts: 127.1, 2130706433, 0x7f.1.
    private static final Pattern NUMERIC_LABEL = Pattern.compile("[0-9]+|0x[0-9a-f]*");
    private static final Pattern LABEL = Pattern.compile("[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?");
    private static final int MAX_NAME_LENGTH = 253;
    private static final int MAX_CNAME_HOPS = 16;

    /** Where addresses of names that are not pinned come from: DNS in production, a map in tests. */
    @FunctionalInterface
    public interface Lookup {
        /** Every A and AAAA address of a name; an exception whose message says why there are none. */
        List<InetAddress> addresses(String name) throws IOException;
    }

    /** The outcome of resolving one name. */
    public sealed interface Resolution {
        String name();
    }

    /** The addresses to connect to, in the order to try them. */
    public record Resolved(String name, List<InetAddress> addresses, boolean pinned) implements Resolution {
        public Resolved {
            addresses = List.copyOf(addresses);
        }
    }

    /** The policy forbids the name or its addresses: an IP literal, or a private answer. */
    public record Refused(String name, String reason) implements Resolution {
    }

    /** The name has no usable address: no such name, no records, or the DNS server did not answer. */
    public record Failed(String name, String reason) implements Resolution {
    }

    /** Asks the DNS server at {@code server} (normally port 53), giving up after {@code timeout}. */
    public static NameResolver usingDns(EgressPolicy policy, InetSocketAddress server, Duration timeout) {
        return new NameResolver(policy, new DnsLookup(server, timeout));
    }

    /** The resolver a cage's proxy uses: its pins, then the configured {@code dns} server. */
    public static NameResolver forConfig(CageConfig config, EgressPolicy policy) {
        InetAddress server;
        try {
            // The config layer accepts only IP literals for dns, and parsing a literal asks no resolver.
            server = InetAddress.getByName(config.dns());
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("dns is not an IP literal: " + config.dns(), e);
        }
        return usingDns(policy, new InetSocketAddress(server, SimpleResolver.DEFAULT_PORT), DEFAULT_TIMEOUT);
    }

    /** Resolves pinned names only and never touches the network: for tests and air-gapped use. */
    public static NameResolver pinnedOnly(EgressPolicy policy) {
        return new NameResolver(policy, name -> {
            throw new UnknownHostException(name + " is not pinned, and this resolver asks no DNS server");
        });
    }

    public Resolution resolve(String host) {
        String name = HostRule.normalize(host);
        Optional<List<InetAddress>> pinned = policy.pinnedAddresses(name);
        if (pinned.isPresent()) {
            return new Resolved(name, pinned.get(), true);
        }
        if (isIpLiteral(name)) {
            return new Refused(name, ipLiteralReason(name));
        }
        if (!isValidHostName(name)) {
            return new Refused(name, "'" + name + "' is not a valid host name");
        }
        List<InetAddress> addresses;
        try {
            addresses = lookup.addresses(name);
        } catch (IOException e) {
            return new Failed(name, "cannot resolve " + name + ": " + e.getMessage());
        }
        if (addresses.isEmpty()) {
            return new Failed(name, "cannot resolve " + name + ": no A or AAAA records");
        }
        // One private answer refuses the whole name: a name that mixes them is an attack, not a mirror.
        for (InetAddress address : addresses) {
            Optional<String> range = restrictedRange(address).or(() -> ownAddress(address));
            if (range.isPresent()) {
                return new Refused(name, name + RESOLVES_TO + address.getHostAddress() + ", " + range.get()
                        + "; only names pinned with resolve may reach such addresses");
            }
        }
        return new Resolved(name, addresses, false);
    }

    /** The explanation the proxy gives for refusing an IP literal as a destination. */
    public static String ipLiteralReason(String host) {
        return host + " is an IP address; only host names from allowed_hosts can be reached";
    }

    /**
     * Whether a destination is written as an address rather than a name: any IPv6 form (with or
     * without brackets) and every IPv4 form, including the shorthand ones.
     */
    public static boolean isIpLiteral(String host) {
        String name = HostRule.normalize(host);
        if (name.contains(":") || name.startsWith("[")) {
            return true;
        }
        String lastLabel = name.substring(name.lastIndexOf('.') + 1);
        return NUMERIC_LABEL.matcher(lastLabel).matches();
    }

    /** Letters, digits, hyphens and underscores in labels of 1 to 63; at most 253 in all. */
    public static boolean isValidHostName(String host) {
        String name = HostRule.normalize(host);
        if (name.isEmpty() || name.length() > MAX_NAME_LENGTH) {
            return false;
        }
        for (String label : name.split("\\.", -1)) {
            if (!LABEL.matcher(label).matches()) {
                return false;
            }
        }
        return true;
    }

    /**
     * The range an address is in, when a name that is not pinned must not point there: every block of
     * IANA's IPv4 and IPv6 special-purpose registries that is not globally reachable (loopback, "this
     * network", private, shared, link-local, the IETF protocol assignments, documentation, benchmarking,
     * discard-only, unique and site local, local-use NAT64, deprecated 6to4 relays), multicast, and
     * everything reserved: IPv4 from 240.0.0.0 (broadcast included) and IPv6 outside 2000::/3, the global
     * unicast space. IPv6 addresses that carry an IPv4 address (IPv4-mapped, -translated and -compatible,
     * the well-known NAT64 prefix, 6to4) are judged by it. Globally reachable special-purpose blocks (the
     * AS112 and AMT anycast services) are left alone: they are public infrastructure.
     */
    public static Optional<String> restrictedRange(InetAddress address) {
        byte[] bytes = address.getAddress();
        if (address instanceof Inet4Address) {
            return restrictedRange4(bytes);
        }
        return restrictedRange6(bytes);
    }

    /** A CIDR block of special-purpose addresses, and how an audit line names it. */
    private record Block(byte[] prefix, int bits, String description) {

        static Block of(String cidr, String description) {
            int slash = cidr.indexOf('/');
            try {
                // Literals only: parsing them asks no resolver.
                String literal = cidr.substring(0, slash);
                byte[] prefix = InetAddress.getByName(literal).getAddress();
                if (literal.contains(":") && prefix.length == 4) {
                    // Java reads an IPv4-mapped literal as the IPv4 address; the block is of IPv6 addresses.
                    prefix = ByteBuffer.allocate(16).put(10, (byte) 0xff).put(11, (byte) 0xff).put(12, prefix).array();
                }
                return new Block(prefix, Integer.parseInt(cidr.substring(slash + 1)), description);
            } catch (UnknownHostException e) {
                throw new IllegalStateException("not an address block: " + cidr, e);
            }
        }

        boolean contains(byte[] address) {
            if (address.length != prefix.length) {
                return false;
            }
            for (int bit = 0; bit < bits; bit++) {
                int mask = 0x80 >> (bit % 8);
                if ((address[bit / 8] & mask) != (prefix[bit / 8] & mask)) {
                    return false;
                }
            }
            return true;
        }
    }

    private static final List<Block> RESTRICTED4 = List.of(
            Block.of("0.0.0.0/8", "an unspecified (this-network) address"),
            Block.of("10.0.0.0/8", "a private (RFC 1918) address"),
            Block.of("100.64.0.0/10", "a shared (CGNAT) address"),
            Block.of("127.0.0.0/8", "a loopback address"),
            Block.of("169.254.0.0/16", "a link-local address"),
            Block.of("172.16.0.0/12", "a private (RFC 1918) address"),
            Block.of("192.0.0.0/24", "an IETF protocol assignment (192.0.0.0/24)"),
            Block.of("192.0.2.0/24", "a documentation address (TEST-NET-1)"),
            Block.of("192.88.99.0/24", "a deprecated 6to4 relay anycast address"),
            Block.of("192.168.0.0/16", "a private (RFC 1918) address"),
            Block.of("198.18.0.0/15", "a benchmarking address"),
            Block.of("198.51.100.0/24", "a documentation address (TEST-NET-2)"),
            Block.of("203.0.113.0/24", "a documentation address (TEST-NET-3)"),
            Block.of("224.0.0.0/4", "a multicast address"),
            Block.of("240.0.0.0/4", "a reserved or broadcast address"));

    /** Blocks whose last four bytes are an IPv4 address: where that one is public, these lead to it. */
    private static final List<Block> LEAD_TO_IPV4 = List.of(
            Block.of("::ffff:0:0/96", "IPv4-mapped"),
            Block.of("64:ff9b::/96", "NAT64"));
    /** Deprecated blocks that carry an IPv4 address too: refused whatever it is, and named by it when it is private. */
    private static final List<Block> CARRY_IPV4 = List.of(
            Block.of("::ffff:0:0:0/96", "IPv4-translated"),
            Block.of("::/96", "IPv4-compatible"));

    private static final Block SIX_TO_FOUR = Block.of("2002::/16", "6to4");
    private static final Block GLOBAL_UNICAST = Block.of("2000::/3", "global unicast");

    private static final List<Block> RESTRICTED6 = List.of(
            Block.of("64:ff9b:1::/48", "a local-use NAT64 address"),
            Block.of("100::/64", "a discard-only address"),
            Block.of("2001::/23", "an IETF protocol assignment (2001::/23: Teredo, benchmarking, ORCHID, ...)"),
            Block.of("2001:db8::/32", "a documentation address"),
            Block.of("3fff::/20", "a documentation address"),
            Block.of("fc00::/7", "a unique local address"),
            Block.of("fe80::/10", "a link-local address"),
            Block.of("fec0::/10", "a site-local address"),
            Block.of("ff00::/8", "a multicast address"));

    private static Optional<String> restrictedRange4(byte[] b) {
        return RESTRICTED4.stream().filter(block -> block.contains(b)).map(Block::description).findFirst();
    }

    private static Optional<String> restrictedRange6(byte[] b) {
        if (isZero(b, 0, 15)) {
            return Optional.of((b[15] & 0xff) == 1 ? "a loopback address" : "an unspecified address");
        }
        boolean leads = LEAD_TO_IPV4.stream().anyMatch(block -> block.contains(b));
        if (leads || CARRY_IPV4.stream().anyMatch(block -> block.contains(b))) {
            Optional<String> inside = restrictedRange4(Arrays.copyOfRange(b, 12, 16))
                    .map(range -> range + " inside an IPv6 address");
            if (leads || inside.isPresent()) {
                return inside;
            }
        }
        Optional<String> special = RESTRICTED6.stream().filter(block -> block.contains(b)).map(Block::description)
                .findFirst();
        if (special.isPresent()) {
            return special;
        }
        if (SIX_TO_FOUR.contains(b)) {
            return restrictedRange4(Arrays.copyOfRange(b, 2, 6)).map(range -> range + " inside a 6to4 address");
        }
        return GLOBAL_UNICAST.contains(b) ? Optional.empty()
                : Optional.of("a reserved address (outside 2000::/3, the global unicast space)");
    }

    private static boolean isZero(byte[] bytes, int from, int to) {
        for (int i = from; i < to; i++) {
            if (bytes[i] != 0) {
                return false;
            }
        }
        return true;
    }

    /** The host's own public addresses are as private as its loopback: its services listen there too. */
    private static Optional<String> ownAddress(InetAddress address) {
        try {
            return NetworkInterface.getByInetAddress(address) == null ? Optional.empty()
                    : Optional.of("an address of this host");
        } catch (SocketException e) {
            return Optional.of("an address this host cannot check against its own (" + e.getMessage() + ")");
        }
    }

    /** A and AAAA queries, in parallel, to one DNS server: no cache, no search list, no hosts file. */
    private static final class DnsLookup implements Lookup {

        private final InetSocketAddress server;
        private final Duration timeout;

        DnsLookup(InetSocketAddress server, Duration timeout) {
            this.server = server;
            this.timeout = timeout;
        }

        @Override
        public List<InetAddress> addresses(String name) throws IOException {
            Name qname = Name.fromString(name, Name.root);
            SimpleResolver resolver = new SimpleResolver(server);
            resolver.setTimeout(timeout);
            CompletableFuture<Message> a = query(resolver, qname, Type.A);
            CompletableFuture<Message> aaaa = query(resolver, qname, Type.AAAA);
            Message answerA = await(a, name);
            Message answerAaaa = await(aaaa, name);
            List<InetAddress> addresses = new ArrayList<>(addresses(qname, answerA));
            addresses.addAll(addresses(qname, answerAaaa));
            if (addresses.isEmpty()) {
                int rcode = answerA.getRcode() != Rcode.NOERROR ? answerA.getRcode() : answerAaaa.getRcode();
                throw new UnknownHostException(rcode == Rcode.NOERROR ? "no A or AAAA records"
                        : "the DNS server answered " + Rcode.string(rcode));
            }
            return addresses;
        }

        private static CompletableFuture<Message> query(SimpleResolver resolver, Name qname, int type) {
            return resolver.sendAsync(Message.newQuery(Record.newRecord(qname, type, DClass.IN))).toCompletableFuture();
        }

        private Message await(CompletableFuture<Message> answer, String name) throws IOException {
            try {
                // dnsjava enforces the timeout itself; this bound only guards against a lost callback.
                return answer.get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                throw new IOException("no answer from the DNS server " + server.getAddress().getHostAddress() + ": "
                        + (cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage()), cause);
            } catch (TimeoutException e) {
                answer.cancel(true);
                throw new IOException("no answer from the DNS server " + server.getAddress().getHostAddress()
                        + " within " + timeout.toMillis() + " ms", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while resolving " + name, e);
            }
        }

        /** The addresses of {@code qname} in an answer, following its CNAME chain and nothing else. */
        private static List<InetAddress> addresses(Name qname, Message answer) {
            if (answer.getRcode() != Rcode.NOERROR) {
                return List.of();
            }
            List<Record> records = answer.getSection(Section.ANSWER);
            Set<Name> names = new HashSet<>(Set.of(qname));
            for (int hop = 0; hop < MAX_CNAME_HOPS; hop++) {
                boolean grew = false;
                for (Record record : records) {
                    if (record instanceof CNAMERecord cname && names.contains(cname.getName())) {
                        grew |= names.add(cname.getTarget());
                    }
                }
                if (!grew) {
                    break;
                }
            }
            List<InetAddress> addresses = new ArrayList<>();
            for (Record record : records) {
                if (!names.contains(record.getName())) {
                    continue;
                }
                if (record instanceof ARecord a) {
                    addresses.add(a.getAddress());
                } else if (record instanceof AAAARecord aaaa) {
                    addresses.add(aaaa.getAddress());
                }
            }
            return addresses;
        }
    }
}
