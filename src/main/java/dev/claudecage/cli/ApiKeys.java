package dev.claudecage.cli;

import dev.claudecage.claudecode.HostLogin;
import dev.claudecage.config.CageConfig;
import dev.claudecage.config.NetworkMode;
import dev.claudecage.net.EgressPolicy;
import dev.claudecage.net.gateway.ApiCredential;

import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Where the user's API credential comes from: {@code --api-key} (a mixin of run and start), else the launcher's
 * environment, else their Claude login on the host ({@link HostLogin}).
 */
final class ApiKeys {

    @Option(names = "--api-key", paramLabel = "KEY",
            description = "Your Anthropic API key for the cage's API gateway. Default: $ANTHROPIC_API_KEY, else "
                    + "your Claude subscription login ($CLAUDE_CODE_OAUTH_TOKEN, else ~/.claude/.credentials.json). "
                    + "Neither enters the cage: the cage gets a placeholder. Prefer the environment variable: "
                    + "a command line is visible to other users of this host.")
    String flag;

    /**
     * The credential the gateway of a cage with {@code config} holds (see {@link #fromFlagOrHost}), or null
     * when it runs no gateway: only a filtered cage has one, and finding a Claude login on the host costs
     * every other run a native library load (it is read without following links).
     */
    ApiCredential credential(CageConfig config) {
        // With network: gateway:ADDRESS the credential is that gateway's.
        return config.network() == NetworkMode.FILTERED && !config.egress().hasExternalGateway() ? fromFlagOrHost(flag) : null;
    }

    /** The key given with --api-key alone: a session's supervisor finds the host's key or login itself. */
    Supplier<char[]> flagKey() {
        return fromFlag(flag);
    }

    /** The key given with --api-key, as a supplier of fresh copies (the gateway wipes each after use), or null. */
    static Supplier<char[]> fromFlag(String flag) {
        if (flag == null || flag.isBlank()) {
            return null;
        }
        char[] held = flag.strip().toCharArray();
        return held::clone;
    }

    /** The credential the gateway holds: --api-key, else the host's key or Claude login ({@link HostLogin}); or null. */
    static ApiCredential fromFlagOrHost(String flag) {
        Supplier<char[]> key = fromFlag(flag);
        return key != null ? ApiCredential.apiKey(key, "--api-key") : HostLogin.find(System.getenv()).orElse(null);
    }

    /** Prints {@link #warningWithoutKey} on {@code err}, when there is one. */
    static void warnWithoutKey(ApiCredential credential, CageConfig config, PrintWriter err) {
        warningWithoutKey(config, credential != null).ifPresent(warning -> {
            err.println(warning);
            err.flush();
        });
    }

    /**
     * With a key or a Claude login on the host, the API gateway holds it and the proxy refuses the API's hosts.
     * Without either, no gateway runs, and a filtered cage that allows an API host reaches it through the proxy
     * with whatever credential the agent holds: the user's own login in the cage, or a key of someone else's,
     * to send the workspace to another account. Said once, when a cage starts.
     */
    static Optional<String> warningWithoutKey(CageConfig config, boolean hasKey) {
        if (hasKey || config.network() != NetworkMode.FILTERED || config.egress().hasExternalGateway()) {
            return Optional.empty();
        }
        EgressPolicy withoutGateway = EgressPolicy.from(config, false);
        List<String> reachable = EgressPolicy.apiHostNames(config).stream().filter(withoutGateway::allowsName).toList();
        if (reachable.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of("claude-cage: warning: no API key (--api-key or ANTHROPIC_API_KEY) and no Claude login "
                + "(CLAUDE_CODE_OAUTH_TOKEN or ~/.claude/.credentials.json) on the host, so no API gateway runs and "
                + "the agent reaches " + String.join(" and ", reachable) + " through the proxy with any credential it "
                + "holds: your login in the cage, or someone else's key, which could take the workspace to another "
                + "account. Give claude-cage your key or log in with claude on the host to reach the API only as you.");
    }
}
