package dev.claudecage.net.ssh;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.net.ProtocolException;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;

/**
 * Checks an SSH host key's signature, as OpenSSH's agent does for {@code session-bind@openssh.com}:
 * proof that the server holding this key signed this session's identifier. Supports the host key
 * types servers use: ssh-ed25519, ecdsa-sha2-nistp256/384/521, and ssh-rsa (with rsa-sha2-256/512
 * or SHA-1 signatures).
 */
final class HostKeySignatures {

    /** The DER prefix of an Ed25519 SubjectPublicKeyInfo, before the 32 key bytes. */
    private static final byte[] ED25519_SPKI_PREFIX = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};

    private HostKeySignatures() {
    }

    /** Whether {@code signature} (SSH signature blob) is the key's valid signature over {@code data}. */
    static boolean verify(byte[] keyBlob, byte[] signatureBlob, byte[] data) {
        try {
            SshReader key = new SshReader(keyBlob);
            String keyType = key.readText();
            SshReader signature = new SshReader(signatureBlob);
            String signatureType = signature.readText();
            byte[] signatureBytes = signature.readString();
            Signature verifier;
            PublicKey publicKey;
            switch (keyType) {
                case "ssh-ed25519" -> {
                    if (!signatureType.equals("ssh-ed25519")) {
                        return false;
                    }
                    byte[] raw = key.readString();
                    if (raw.length != 32) {
                        return false;
                    }
                    byte[] spki = Arrays.copyOf(ED25519_SPKI_PREFIX, ED25519_SPKI_PREFIX.length + 32);
                    System.arraycopy(raw, 0, spki, ED25519_SPKI_PREFIX.length, 32);
                    publicKey = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
                    verifier = Signature.getInstance("Ed25519");
                }
                case "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521" -> {
                    if (!signatureType.equals(keyType)) {
                        return false;
                    }
                    String curve = key.readText();
                    byte[] point = key.readString();
                    String[] names = switch (curve) {
                        case "nistp256" -> new String[] {"secp256r1", "SHA256withECDSA"};
                        case "nistp384" -> new String[] {"secp384r1", "SHA384withECDSA"};
                        case "nistp521" -> new String[] {"secp521r1", "SHA512withECDSA"};
                        default -> null;
                    };
                    if (names == null || point.length < 3 || point[0] != 4 || (point.length - 1) % 2 != 0) {
                        return false;
                    }
                    int half = (point.length - 1) / 2;
                    ECPoint w = new ECPoint(new BigInteger(1, Arrays.copyOfRange(point, 1, 1 + half)),
                            new BigInteger(1, Arrays.copyOfRange(point, 1 + half, point.length)));
                    AlgorithmParameters parameters = AlgorithmParameters.getInstance("EC");
                    parameters.init(new ECGenParameterSpec(names[0]));
                    publicKey = KeyFactory.getInstance("EC").generatePublic(
                            new ECPublicKeySpec(w, parameters.getParameterSpec(ECParameterSpec.class)));
                    verifier = Signature.getInstance(names[1]);
                    SshReader rs = new SshReader(signatureBytes);
                    signatureBytes = derSequence(rs.readMpint(), rs.readMpint());
                }
                case "ssh-rsa" -> {
                    BigInteger exponent = key.readMpint();
                    BigInteger modulus = key.readMpint();
                    String algorithm = switch (signatureType) {
                        case "rsa-sha2-256" -> "SHA256withRSA";
                        case "rsa-sha2-512" -> "SHA512withRSA";
                        case "ssh-rsa" -> "SHA1withRSA";
                        default -> null;
                    };
                    if (algorithm == null) {
                        return false;
                    }
                    publicKey = KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(modulus, exponent));
                    verifier = Signature.getInstance(algorithm);
                }
                default -> {
                    return false;
                }
            }
            verifier.initVerify(publicKey);
            verifier.update(data);
            return verifier.verify(signatureBytes);
        } catch (ProtocolException | GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }

    /** An ECDSA (r, s) pair as the JDK reads it: a DER SEQUENCE of two INTEGERs. */
    private static byte[] derSequence(BigInteger r, BigInteger s) {
        byte[] rBytes = r.toByteArray();
        byte[] sBytes = s.toByteArray();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        derInteger(body, rBytes);
        derInteger(body, sBytes);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x30);
        derLength(out, body.size());
        out.writeBytes(body.toByteArray());
        return out.toByteArray();
    }

    private static void derInteger(ByteArrayOutputStream out, byte[] value) {
        out.write(0x02);
        derLength(out, value.length);
        out.writeBytes(value);
    }

    private static void derLength(ByteArrayOutputStream out, int length) {
        if (length < 0x80) {
            out.write(length);
        } else if (length < 0x100) {
            out.write(0x81);
            out.write(length);
        } else {
            out.write(0x82);
            out.write(length >> 8);
            out.write(length & 0xff);
        }
    }
}
