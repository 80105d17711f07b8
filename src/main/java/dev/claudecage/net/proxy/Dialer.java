package dev.claudecage.net.proxy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;

/**
 * Opens the proxy's connection to an upstream server, once the destination was allowed and
 * resolved. The proxy connects only to the addresses it checked, never resolving again.
 */
@FunctionalInterface
public interface Dialer {

    /** A connected, blocking channel to one of the addresses, tried in order. */
    SocketChannel connect(List<InetAddress> addresses, int port) throws IOException;

    /** Plain TCP, trying each address in turn within one overall timeout. */
    static Dialer direct(Duration timeout) {
        return (addresses, port) -> {
            long deadline = System.nanoTime() + timeout.toNanos();
            IOException failure = null;
            for (InetAddress address : addresses) {
                long remainingMillis = (deadline - System.nanoTime()) / 1_000_000;
                if (remainingMillis <= 0) {
                    break;
                }
                SocketChannel channel = SocketChannel.open();
                try {
                    channel.socket().connect(new InetSocketAddress(address, port),
                            (int) Math.min(remainingMillis, Integer.MAX_VALUE));
                    return channel;
                } catch (IOException e) {
                    channel.close();
                    IOException named = new IOException(address.getHostAddress() + ": " + e.getMessage(), e);
                    if (failure == null) {
                        failure = named;
                    } else {
                        failure.addSuppressed(named);
                    }
                }
            }
            throw failure != null ? failure
                    : new IOException("no address answered within " + timeout.toMillis() + " ms");
        };
    }
}
