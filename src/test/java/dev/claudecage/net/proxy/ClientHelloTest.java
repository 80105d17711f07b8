package dev.claudecage.net.proxy;

import dev.claudecage.testing.TlsClientHello;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.InputStream;
import java.net.ProtocolException;
import java.util.Arrays;
import java.util.Optional;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClientHelloTest {

    @Test
    void readsTheServerNameOfTheJdkClientAndKeepsEveryByte() throws Exception {
        byte[] hello = TlsClientHello.of("api.example.com");

        ClientHello read = ClientHello.read(new ByteArrayInputStream(hello));

        assertEquals(Optional.of("api.example.com"), read.serverName());
        assertArrayEquals(hello, read.bytes());
    }

    @Test
    void aHelloWithoutTheExtensionHasNoServerName() throws Exception {
        assertEquals(Optional.empty(),
                ClientHello.read(new ByteArrayInputStream(TlsClientHello.of(null))).serverName());
    }

    @Test
    void aHelloOverTwoRecordsIsReadWholeAndWhatFollowsStaysInTheStream() throws Exception {
        byte[] split = TransparentListenersTest.splitIntoTwoRecords(TlsClientHello.of("a.test"), 10);
        InputStream in = new ByteArrayInputStream(concat(split, "next".getBytes(ISO_8859_1)));

        ClientHello read = ClientHello.read(in);

        assertEquals(Optional.of("a.test"), read.serverName());
        assertArrayEquals(split, read.bytes());
        assertEquals("next", new String(in.readAllBytes(), ISO_8859_1));
    }

    @Test
    void somethingOtherThanTlsIsRefused() {
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> ClientHello.read(new ByteArrayInputStream("GET / HTTP/1.1\r\n\r\n".getBytes(ISO_8859_1))));
        assertEquals("not a TLS ClientHello", e.getMessage());
    }

    @Test
    void aHelloCutShortIsAnEndOfStream() throws Exception {
        byte[] hello = TlsClientHello.of("a.test");
        assertThrows(EOFException.class,
                () -> ClientHello.read(new ByteArrayInputStream(Arrays.copyOf(hello, hello.length - 10))));
    }

    @Test
    void aRecordLongerThanTlsAllowsIsRefused() {
        byte[] header = {22, 3, 1, 0x40, 0x01};
        ProtocolException e = assertThrows(ProtocolException.class, () -> ClientHello.read(new ByteArrayInputStream(header)));
        assertTrue(e.getMessage().contains("16385 bytes"), e.getMessage());
    }

    @Test
    void aRepeatedServerNameExtensionIsRefused() {
        byte[] hello = craftedHello(serverNameExtension("allowed.test"), serverNameExtension("evil.test"));
        ProtocolException e = assertThrows(ProtocolException.class, () -> ClientHello.read(new ByteArrayInputStream(hello)));
        assertEquals("the ClientHello repeats extension 0", e.getMessage());
    }

    @Test
    void twoHostNamesInOneExtensionAreRefused() {
        byte[] names = concat(hostNameEntry("allowed.test"), hostNameEntry("evil.test"));
        byte[] hello = craftedHello(extension(0, concat(u16(names.length), names)));
        ProtocolException e = assertThrows(ProtocolException.class, () -> ClientHello.read(new ByteArrayInputStream(hello)));
        assertEquals("the ClientHello names two servers", e.getMessage());
    }

    @Test
    void lengthsThatPointPastTheMessageAreRefused() {
        byte[] hello = craftedHello(new byte[] {0, 0, 0x7f, 0x7f});
        assertThrows(ProtocolException.class, () -> ClientHello.read(new ByteArrayInputStream(hello)));
    }

    @Test
    void aHelloWithoutExtensionsHasNoServerName() throws Exception {
        byte[] hello = craftedHello();
        assertEquals(Optional.empty(), ClientHello.read(new ByteArrayInputStream(hello)).serverName());
    }

    /** A minimal TLS 1.2 ClientHello in one record; no extensions block at all when none are given. */
    private static byte[] craftedHello(byte[]... extensions) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(new byte[] {3, 3});
        body.writeBytes(new byte[32]);
        body.write(0);
        body.writeBytes(new byte[] {0, 2, 0x13, 0x01});
        body.writeBytes(new byte[] {1, 0});
        if (extensions.length > 0) {
            byte[] all = concat(extensions);
            body.writeBytes(u16(all.length));
            body.writeBytes(all);
        }
        byte[] message = concat(new byte[] {1, 0}, u16(body.size()), body.toByteArray());
        return concat(new byte[] {22, 3, 1}, u16(message.length), message);
    }

    private static byte[] serverNameExtension(String name) {
        byte[] entry = hostNameEntry(name);
        return extension(0, concat(u16(entry.length), entry));
    }

    private static byte[] hostNameEntry(String name) {
        byte[] bytes = name.getBytes(ISO_8859_1);
        return concat(new byte[] {0}, u16(bytes.length), bytes);
    }

    private static byte[] extension(int type, byte[] data) {
        return concat(u16(type), u16(data.length), data);
    }

    private static byte[] u16(int value) {
        return new byte[] {(byte) (value >> 8), (byte) value};
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }
}
