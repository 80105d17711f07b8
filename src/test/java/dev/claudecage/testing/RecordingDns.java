package dev.claudecage.testing;

import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Section;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A DNS server on a test host that records the name of every query it gets and answers each with
 * NXDOMAIN: the canary for tests that must show a name was, or was never, looked up. UDP only, which
 * is what a resolver asks first. Created on a thread inside a test host's network namespace.
 */
public final class RecordingDns implements AutoCloseable {

    private final DatagramSocket socket;
    private final List<String> names = new ArrayList<>();

    private RecordingDns(DatagramSocket socket) {
        this.socket = socket;
    }

    public static RecordingDns start(String address, int port) {
        try {
            RecordingDns dns = new RecordingDns(new DatagramSocket(new InetSocketAddress(InetAddress.getByName(address),
                    port)));
            Thread loop = new Thread(dns::answerUntilClosed, "recording-dns");
            loop.setDaemon(true);
            loop.start();
            return dns;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + address + ":" + port + "/udp", e);
        }
    }

    /** The names asked for since the last call, in order, without the trailing dot; then forgets them. */
    public synchronized List<String> takeNames() {
        List<String> taken = List.copyOf(names);
        names.clear();
        return taken;
    }

    private synchronized void record(String name) {
        names.add(name);
    }

    private void answerUntilClosed() {
        byte[] buffer = new byte[1500];
        while (!socket.isClosed()) {
            DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
            try {
                socket.receive(packet);
                Message query = new Message(Arrays.copyOf(packet.getData(), packet.getLength()));
                String name = query.getQuestion().getName().toString();
                record(name.endsWith(".") ? name.substring(0, name.length() - 1) : name);
                Message answer = new Message(query.getHeader().getID());
                answer.getHeader().setFlag(Flags.QR);
                answer.getHeader().setRcode(Rcode.NXDOMAIN);
                answer.addRecord(query.getQuestion(), Section.QUESTION);
                byte[] wire = answer.toWire();
                socket.send(new DatagramPacket(wire, wire.length, packet.getSocketAddress()));
            } catch (IOException e) {
                // Closed, or a datagram that is not a query: nothing to record.
            }
        }
    }

    @Override
    public void close() {
        socket.close();
    }
}
