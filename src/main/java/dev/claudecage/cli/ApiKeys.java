package dev.claudecage.cli;

import dev.claudecage.config.CageConfig;
import dev.claudecage.config.NetworkMode;
import dev.claudecage.net.EgressPolicy;

import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/** Where the user's API key comes from: {@code --api-key} (a mixin of run and start), else the launcher's environment. */
final class ApiKeys {

    @Option(names = "--api-key", paramLabel = "KEY",
            description = "Your Anthropic API key for the API gateway (default: $ANTHROPIC_API_KEY). "
                    + "It never enters the cage: the cage gets a placeholder. Prefer the environment variable: "
                    + "a command line is visible to other users of this host.")
    String flag;

    /** The key from the flag, else the environment (see {@link #fromFlagOrEnvironment}). */
    Supplier<char[]> key() {
        return fromFlagOrEnvironment(flag);
    }

    /** A supplier of fresh copies of the key (the gateway wipes each after use), or null when there is no key. */
    static Supplier<char[]> fromFlagOrEnvironment(String flag) {
        String key = flag != null ? flag : System.getenv("ANTHROPIC_API_KEY");
        if (key == null || key.isBlank()) {
            return null;
        }
        char[] held = key.strip().toCharArray();
        return held::clone;
    }

    /** Prints {@link #warningWithoutKey} on {@code err}, when there is one. */
    static void warnWithoutKey(Supplier<char[]> key, CageConfig config, PrintWriter err) {
        warningWithoutKey(config, key != null).ifPresent(warning -> {
            err.println(warning);
            err.flush();
        });
    }

    /**
     * With the key on the host, the API gateway holds it and the proxy refuses the API's hosts. Without one,
     * no gateway runs, and a filtered cage that allows an API host reaches it through the proxy with whatever
     * credential the agent holds: the user's own login in the cage, or a key of someone else's, to send the
     * workspace to another account. Said once, when a cage starts.
     */
    static Optional<String> warningWithoutKey(CageConfig config, boolean hasKey) {
        if (hasKey || config.network() != NetworkMode.FILTERED) {
            return Optional.empty();
        }
        EgressPolicy withoutGateway = EgressPolicy.from(config, false);
        List<String> reachable = EgressPolicy.apiHostNames(config).stream().filter(withoutGateway::allowsName).toList();
        if (reachable.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of("claude-cage: warning: no API key on the host (--api-key or ANTHROPIC_API_KEY), so no API "
                + "gateway runs and the agent reaches " + String.join(" and ", reachable) + " through the proxy with "
                + "any credential it holds: your login in the cage, or someone else's key, which could take the "
                + "workspace to another account. Give claude-cage your key to reach the API only as you.");
    }
}
