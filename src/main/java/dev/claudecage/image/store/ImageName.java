package dev.claudecage.image.store;

import dev.claudecage.UserInputException;

import java.util.regex.Pattern;

/**
 * An image name, {@code repository:tag}, as Docker spells them. {@code cli} means
 * {@code cli:latest}; Docker Hub's official images lose their {@code docker.io/library/}
 * prefix, so {@code FROM docker.io/library/debian:bookworm} finds the local {@code debian:bookworm}.
 * Names are keys in the store's index, never file names.
 */
public record ImageName(String repository, String tag) {

    public static final String DEFAULT_TAG = "latest";
    private static final Pattern COMPONENT = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
    private static final Pattern REGISTRY = Pattern.compile(
            "[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?");
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
    private static final String HINT = "use NAME[:TAG] with lower-case letters, digits and . _ - (e.g. cli or my-tools:1.0)";

    public ImageName {
        if (!TAG.matcher(tag).matches()) {
            throw new UserInputException("'" + tag + "' is not a valid image tag", HINT);
        }
        String[] parts = repository.split("/", -1);
        for (int i = 0; i < parts.length; i++) {
            boolean registryPart = i == 0 && parts.length > 1 && (parts[0].contains(".") || parts[0].contains(":")
                    || parts[0].equals("localhost"));
            if (!(registryPart ? REGISTRY : COMPONENT).matcher(parts[i]).matches()) {
                throw new UserInputException("'" + repository + "' is not a valid image name", HINT);
            }
        }
    }

    public static ImageName parse(String reference) {
        if (reference.contains("@")) {
            throw new UserInputException("'" + reference + "': images are named here by NAME[:TAG], not by digest", HINT);
        }
        int slash = reference.lastIndexOf('/');
        int colon = reference.lastIndexOf(':');
        String repository = colon > slash ? reference.substring(0, colon) : reference;
        String tag = colon > slash ? reference.substring(colon + 1) : DEFAULT_TAG;
        for (String hubPrefix : new String[] {"docker.io/library/", "index.docker.io/library/", "library/", "docker.io/"}) {
            if (repository.startsWith(hubPrefix)) {
                repository = repository.substring(hubPrefix.length());
                break;
            }
        }
        return new ImageName(repository, tag);
    }

    @Override
    public String toString() {
        return repository + ":" + tag;
    }
}
