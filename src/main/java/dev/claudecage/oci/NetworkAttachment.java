package dev.claudecage.oci;

import dev.claudecage.config.NetworkMode;

import java.nio.file.Path;
import java.util.List;

/**
 * How a cage joins the network, as the spec needs it.
 *
 * @param namespacePath the prepared namespace a filtered cage joins; null for the others
 * @param env           what the cage must know: proxy variables, the API gateway, the placeholder key
 * @param resolvConf    the file mounted at /etc/resolv.conf, or null to keep the image's
 * @param binds         more host paths the network services give the cage (the SSH agent relay's folder)
 */
public record NetworkAttachment(NetworkMode mode, String namespacePath, List<String> env, Path resolvConf,
                                List<Spec.Mount> binds) {

    public NetworkAttachment {
        env = List.copyOf(env);
        binds = List.copyOf(binds);
        if ((mode == NetworkMode.FILTERED) != (namespacePath != null)) {
            throw new IllegalArgumentException("a prepared namespace goes with filtered networking, and only with it");
        }
    }

    public NetworkAttachment(NetworkMode mode, String namespacePath, List<String> env, Path resolvConf) {
        this(mode, namespacePath, env, resolvConf, List.of());
    }

    /** A new namespace with only loopback. */
    public static NetworkAttachment none() {
        return new NetworkAttachment(NetworkMode.NONE, null, List.of(), null);
    }

    /** The host's own network and resolver. */
    public static NetworkAttachment host() {
        return new NetworkAttachment(NetworkMode.HOST, null, List.of(), Path.of("/etc/resolv.conf"));
    }
}
