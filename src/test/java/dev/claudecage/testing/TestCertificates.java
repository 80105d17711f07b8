package dev.claudecage.testing;

import dev.claudecage.process.ProcessRunner;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * A test CA of the test's own and one server certificate it signed for the given names, made with
 * openssl in a folder of the test's. Nothing is added to any system trust store: whoever should
 * trust the CA is given {@link #caPem()} explicitly.
 */
public record TestCertificates(Path caPem, Path serverP12) {

    private static final String PASSWORD = "test";
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    public static TestCertificates create(Path dir, List<String> serverNames) throws IOException {
        ProcessRunner runner = new ProcessRunner(false);
        Path caKey = dir.resolve("ca.key");
        Path caPem = dir.resolve("ca.pem");
        Path key = dir.resolve("server.key");
        Path csr = dir.resolve("server.csr");
        Path pem = dir.resolve("server.pem");
        Path ext = dir.resolve("server.ext");
        Path p12 = dir.resolve("server.p12");
        runner.run(List.of("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", caKey.toString(),
                "-out", caPem.toString(), "-days", "2", "-subj", "/CN=claude-cage test CA"), TIMEOUT);
        runner.run(List.of("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key.toString(),
                "-out", csr.toString(), "-subj", "/CN=" + serverNames.get(0)), TIMEOUT);
        List<String> alternatives = new ArrayList<>();
        serverNames.forEach(name -> alternatives.add("DNS:" + name));
        Files.writeString(ext, "subjectAltName=" + String.join(",", alternatives) + "\n"
                + "extendedKeyUsage=serverAuth\n");
        runner.run(List.of("openssl", "x509", "-req", "-in", csr.toString(), "-CA", caPem.toString(), "-CAkey",
                caKey.toString(), "-CAcreateserial", "-out", pem.toString(), "-days", "2", "-extfile", ext.toString()),
                TIMEOUT);
        runner.run(List.of("openssl", "pkcs12", "-export", "-in", pem.toString(), "-inkey", key.toString(),
                "-out", p12.toString(), "-passout", "pass:" + PASSWORD), TIMEOUT);
        return new TestCertificates(caPem, p12);
    }

    /** A server-side TLS context presenting the server certificate. */
    public SSLContext serverContext() throws IOException, GeneralSecurityException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(serverP12)) {
            store.load(in, PASSWORD.toCharArray());
        }
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(store, PASSWORD.toCharArray());
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keys.getKeyManagers(), null, null);
        return context;
    }
}
