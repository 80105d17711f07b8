package dev.claudecage.net.proxy;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * The first flight of a TLS client, read record by record until the whole ClientHello is in,
 * kept byte for byte to replay upstream, with the server name (SNI) it asks for. The proxy
 * never decrypts anything: the name in the hello is all it decides by. Anything that lets
 * the proxy and the server read different names (a repeated extension, two host names) is refused.
 *
 * @param bytes      every byte read from the client, whole TLS records
 * @param serverName the host_name of the server_name extension, if there is one
 */
record ClientHello(byte[] bytes, Optional<String> serverName) {

    private static final int HANDSHAKE_RECORD = 22;
    private static final int CLIENT_HELLO = 1;
    private static final int SERVER_NAME_EXTENSION = 0;
    private static final int HOST_NAME = 0;
    private static final int MAX_RECORD_LENGTH = 16 * 1024;
    // Post-quantum key shares make hellos of a few KiB; 64 KiB is far above any real one.
    private static final int MAX_BYTES = 64 * 1024;

    static ClientHello read(InputStream in) throws IOException {
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        ByteArrayOutputStream handshake = new ByteArrayOutputStream();
        int helloLength = -1;
        while (helloLength < 0 || handshake.size() < helloLength) {
            byte[] header = readExactly(in, 5);
            if (header[0] != HANDSHAKE_RECORD || header[1] != 3) {
                throw new ProtocolException(raw.size() == 0 ? "not a TLS ClientHello" : "the ClientHello is cut short");
            }
            int length = (header[3] & 0xff) << 8 | header[4] & 0xff;
            if (length == 0 || length > MAX_RECORD_LENGTH || raw.size() + 5 + length > MAX_BYTES) {
                throw new ProtocolException("a TLS record of " + length + " bytes does not fit a ClientHello");
            }
            byte[] body = readExactly(in, length);
            raw.write(header);
            raw.write(body);
            handshake.write(body);
            if (helloLength < 0 && handshake.size() >= 4) {
                byte[] start = handshake.toByteArray();
                if (start[0] != CLIENT_HELLO) {
                    throw new ProtocolException("the first TLS handshake message is not a ClientHello");
                }
                helloLength = 4 + ((start[1] & 0xff) << 16 | (start[2] & 0xff) << 8 | start[3] & 0xff);
                if (helloLength > MAX_BYTES) {
                    throw new ProtocolException("a ClientHello of " + helloLength + " bytes");
                }
            }
        }
        byte[] message = handshake.toByteArray();
        return new ClientHello(raw.toByteArray(), serverName(new Cursor(message, 4, helloLength)));
    }

    private static Optional<String> serverName(Cursor hello) throws ProtocolException {
        hello.skip(2 + 32);
        hello.skip(hello.u8());
        hello.skip(hello.u16());
        hello.skip(hello.u8());
        if (hello.atEnd()) {
            return Optional.empty();
        }
        Cursor extensions = hello.slice(hello.u16());
        Set<Integer> seen = new HashSet<>();
        Optional<String> name = Optional.empty();
        while (!extensions.atEnd()) {
            int type = extensions.u16();
            Cursor data = extensions.slice(extensions.u16());
            if (!seen.add(type)) {
                throw new ProtocolException("the ClientHello repeats extension " + type);
            }
            if (type == SERVER_NAME_EXTENSION) {
                name = Optional.of(hostName(data.slice(data.u16())));
            }
        }
        return name;
    }

    private static String hostName(Cursor list) throws ProtocolException {
        String name = null;
        while (!list.atEnd()) {
            int type = list.u8();
            Cursor value = list.slice(list.u16());
            if (type == HOST_NAME) {
                if (name != null) {
                    throw new ProtocolException("the ClientHello names two servers");
                }
                name = value.rest();
            }
        }
        if (name == null) {
            throw new ProtocolException("the server_name extension has no host name");
        }
        return name;
    }

    private static byte[] readExactly(InputStream in, int length) throws IOException {
        byte[] bytes = in.readNBytes(length);
        if (bytes.length < length) {
            throw new EOFException("closed in the middle of the ClientHello");
        }
        return bytes;
    }

    /** Reads big-endian fields within [position, end), refusing to read past end. */
    private static final class Cursor {
        private final byte[] bytes;
        private final int end;
        private int position;

        Cursor(byte[] bytes, int position, int end) {
            this.bytes = bytes;
            this.position = position;
            this.end = end;
        }

        int u8() throws ProtocolException {
            need(1);
            return bytes[position++] & 0xff;
        }

        int u16() throws ProtocolException {
            need(2);
            int value = (bytes[position] & 0xff) << 8 | bytes[position + 1] & 0xff;
            position += 2;
            return value;
        }

        void skip(int length) throws ProtocolException {
            need(length);
            position += length;
        }

        Cursor slice(int length) throws ProtocolException {
            need(length);
            Cursor slice = new Cursor(bytes, position, position + length);
            position += length;
            return slice;
        }

        String rest() {
            String text = new String(bytes, position, end - position, StandardCharsets.ISO_8859_1);
            position = end;
            return text;
        }

        boolean atEnd() {
            return position >= end;
        }

        private void need(int length) throws ProtocolException {
            if (length > end - position) {
                throw new ProtocolException("the ClientHello is malformed");
            }
        }
    }
}
