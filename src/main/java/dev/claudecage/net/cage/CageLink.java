package dev.claudecage.net.cage;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * A filtered cage's only link: a veth pair between the host and the cage's network namespace,
 * with one /30 and one /64 from the pools. The host end's addresses are the gateway (GW) where
 * the session's proxy, API gateway and DNS stub listen; the cage has no other route.
 *
 * @param index the slot in the pools, which makes the addresses
 */
public record CageLink(String cageId, int index, String netnsName, String hostInterface,
                       Inet4Address hostAddress4, Inet4Address cageAddress4, Inet6Address hostAddress6,
                       Inet6Address cageAddress6) {

    public static final int PREFIX4 = 30;
    public static final int PREFIX6 = 64;
    /** The cage end's name once it is inside the namespace. */
    public static final String CAGE_SIDE_NAME = "eth0";
    /** Interface and namespace names start with this, so leftovers are easy to find and never someone else's. */
    public static final String NAME_PREFIX = "cg";

    /** The link in pool slot {@code index}; pure arithmetic on the pools' prefixes. */
    public static CageLink allocate(String cageId, int index, String pool4, String pool6) {
        if (index < 0 || index >= capacity(pool4, pool6)) {
            throw new IllegalArgumentException("pool slot " + index + " is outside the pools " + pool4 + " and " + pool6);
        }
        byte[] base4 = prefixBytes(pool4);
        long network4 = toLong(base4) + 4L * index;
        // Consecutive /64s: the slot is added to the upper 64 bits, the network part.
        byte[] subnet6 = new byte[16];
        long network6 = toLong(java.util.Arrays.copyOf(prefixBytes(pool6), 8)) + index;
        for (int i = 0; i < 8; i++) {
            subnet6[i] = (byte) (network6 >>> (56 - 8 * i));
        }
        // Named by slot: unique among live cages by construction, and short enough for the 15-character limit.
        return new CageLink(cageId, index, netnsName(cageId), NAME_PREFIX + "h" + index,
                (Inet4Address) fromLong(network4 + 1), (Inet4Address) fromLong(network4 + 2),
                withLastByte(subnet6, 1), withLastByte(subnet6, 2));
    }

    /** The network namespace of the cage {@code cageId}, under /run/netns. */
    public static String netnsName(String cageId) {
        return "claude-cage-" + cageId;
    }

    /** How many links the two pools hold together. */
    public static int capacity(String pool4, String pool6) {
        long slots4 = 1L << (PREFIX4 - prefixLength(pool4));
        long slots6 = 1L << Math.min(30, PREFIX6 - prefixLength(pool6));
        return (int) Math.min(Integer.MAX_VALUE, Math.min(slots4, slots6));
    }

    public String gateway4() {
        return hostAddress4.getHostAddress();
    }

    public String gateway6() {
        return hostAddress6.getHostAddress();
    }

    static int prefixLength(String prefix) {
        return Integer.parseInt(prefix.substring(prefix.indexOf('/') + 1));
    }

    private static byte[] prefixBytes(String prefix) {
        try {
            return InetAddress.getByName(prefix.substring(0, prefix.indexOf('/'))).getAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an address prefix: " + prefix, e);
        }
    }

    private static long toLong(byte[] bytes) {
        long value = 0;
        for (byte b : bytes) {
            value = (value << 8) | (b & 0xff);
        }
        return value;
    }

    private static InetAddress fromLong(long value) {
        byte[] bytes = {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value};
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Inet6Address withLastByte(byte[] subnet, int last) {
        byte[] bytes = subnet.clone();
        bytes[15] = (byte) last;
        try {
            return (Inet6Address) InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
