package dev.claudecage.net.gateway;

import dev.claudecage.CageException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Collection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * The TLS trust the git gateway verifies its upstreams with: the JDK's standard CA certificates,
 * plus, when configured, those of a PEM file (a self-hosted server with a private CA). Verification
 * itself, host name included, is never turned off.
 */
public final class UpstreamTrust {

    private UpstreamTrust() {
    }

    /** @param extraCertificates a PEM file of CA certificates, or null for the standard ones only */
    public static SSLContext context(Path extraCertificates) {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            if (extraCertificates == null) {
                context.init(null, null, null);
                return context;
            }
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int index = 0;
            for (X509Certificate standard : standardTrust().getAcceptedIssuers()) {
                store.setCertificateEntry("standard-" + index++, standard);
            }
            Collection<? extends Certificate> extra;
            try (InputStream in = Files.newInputStream(extraCertificates)) {
                extra = CertificateFactory.getInstance("X.509").generateCertificates(in);
            }
            if (extra.isEmpty()) {
                throw new CageException("git_ca_certificates: " + extraCertificates + " holds no PEM certificate");
            }
            for (Certificate certificate : extra) {
                store.setCertificateEntry("extra-" + index++, certificate);
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(store);
            context.init(null, factory.getTrustManagers(), null);
            return context;
        } catch (IOException | GeneralSecurityException e) {
            throw new CageException("cannot load the CA certificates in " + extraCertificates + ": " + e.getMessage(),
                    "git_ca_certificates must name a PEM file of X.509 certificates");
        }
    }

    private static X509TrustManager standardTrust() throws GeneralSecurityException {
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init((KeyStore) null);
        for (TrustManager manager : factory.getTrustManagers()) {
            if (manager instanceof X509TrustManager x509) {
                return x509;
            }
        }
        throw new GeneralSecurityException("the JDK has no X.509 trust manager");
    }
}
