package dev.claudecage.testing;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.util.List;

/** The first flight of a TLS client, for tests that speak to a listener deciding by SNI. */
public final class TlsClientHello {

    /** What the proxy answers a TLS client it refuses: a fatal access_denied alert. */
    public static final byte[] ACCESS_DENIED = {21, 3, 3, 0, 2, 2, 49};

    private TlsClientHello() {
    }

    /** The first flight of the JDK's own TLS client, with this server name, or none when null. */
    public static byte[] of(String serverName) throws GeneralSecurityException, SSLException {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, null, null);
        SSLEngine engine = context.createSSLEngine();
        engine.setUseClientMode(true);
        if (serverName != null) {
            SSLParameters parameters = engine.getSSLParameters();
            parameters.setServerNames(List.of(new SNIHostName(serverName)));
            engine.setSSLParameters(parameters);
        }
        ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        engine.wrap(ByteBuffer.allocate(0), out);
        out.flip();
        byte[] bytes = new byte[out.remaining()];
        out.get(bytes);
        return bytes;
    }
}
