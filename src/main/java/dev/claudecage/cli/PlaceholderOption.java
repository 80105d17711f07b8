package dev.claudecage.cli;

import dev.claudecage.UserInputException;
import dev.claudecage.net.gateway.PlaceholderKey;
import picocli.CommandLine.Option;

import java.util.Optional;

/** {@code --placeholder}, the key the clients of an API gateway hold, for gateway serve and kube generate. */
final class PlaceholderOption {

    @Option(names = "--placeholder", paramLabel = "KEY",
            description = "The API key the clients hold in place of the real one (sk-ant-cage- and 32 characters; "
                    + "no secret: the gateway swaps it for the real one). Default: a fresh one, printed at start "
                    + "(gateway serve) or written into the manifests (kube generate).")
    String placeholder;

    /** The key given, or empty for a fresh one. */
    Optional<PlaceholderKey> given() {
        if (placeholder == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(new PlaceholderKey(placeholder));
        } catch (IllegalArgumentException e) {
            throw new UserInputException("--placeholder: " + e.getMessage(),
                    "leave it out for a fresh one, or give the key the clients hold");
        }
    }
}
