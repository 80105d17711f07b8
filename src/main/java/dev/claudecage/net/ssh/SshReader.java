package dev.claudecage.net.ssh;

import java.math.BigInteger;
import java.net.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Reads SSH wire types (RFC 4251 section 5) from one message; any overrun is a ProtocolException. */
final class SshReader {

    private final byte[] bytes;
    private int at;

    SshReader(byte[] bytes) {
        this.bytes = bytes;
    }

    int readByte() throws ProtocolException {
        need(1);
        return bytes[at++] & 0xff;
    }

    boolean readBoolean() throws ProtocolException {
        return readByte() != 0;
    }

    long readUint32() throws ProtocolException {
        need(4);
        long value = ((bytes[at] & 0xffL) << 24) | ((bytes[at + 1] & 0xffL) << 16) | ((bytes[at + 2] & 0xffL) << 8)
                | (bytes[at + 3] & 0xffL);
        at += 4;
        return value;
    }

    byte[] readString() throws ProtocolException {
        long length = readUint32();
        if (length > bytes.length - at) {
            throw new ProtocolException("a string of " + length + " bytes runs past the message");
        }
        byte[] value = Arrays.copyOfRange(bytes, at, at + (int) length);
        at += (int) length;
        return value;
    }

    String readText() throws ProtocolException {
        return new String(readString(), StandardCharsets.UTF_8);
    }

    BigInteger readMpint() throws ProtocolException {
        byte[] value = readString();
        return value.length == 0 ? BigInteger.ZERO : new BigInteger(value);
    }

    boolean atEnd() {
        return at == bytes.length;
    }

    private void need(int count) throws ProtocolException {
        if (bytes.length - at < count) {
            throw new ProtocolException("the message ends early");
        }
    }
}
