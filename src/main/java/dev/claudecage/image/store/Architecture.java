package dev.claudecage.image.store;

import java.util.Map;

/** The host's architecture in OCI's words (amd64, arm64), for image configs and --platform. */
public final class Architecture {

    private static final Map<String, String> OCI_NAMES = Map.of("amd64", "amd64", "x86_64", "amd64",
            "aarch64", "arm64", "arm64", "arm64");

    private Architecture() {
    }

    public static String host() {
        String arch = System.getProperty("os.arch");
        return OCI_NAMES.getOrDefault(arch, arch);
    }
}
