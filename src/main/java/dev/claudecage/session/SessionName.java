package dev.claudecage.session;

import dev.claudecage.UserInputException;

import java.util.List;
import java.util.Set;
import java.util.random.RandomGenerator;
import java.util.regex.Pattern;

/**
 * A session's name: lowercase letters, digits and dashes, starting with a letter or digit, at most
 * 32 characters. The name becomes a folder name and part of the container id, so anything else
 * (dots, slashes, spaces, upper case, a leading dash) is refused: no path tricks, no option tricks.
 */
public record SessionName(String value) {

    public static final Pattern PATTERN = Pattern.compile("[a-z0-9][a-z0-9-]{0,31}");

    private static final List<String> ADJECTIVES = List.of(
            "amber", "bold", "brave", "brisk", "calm", "clever", "cosy", "crisp", "curious", "daring",
            "eager", "fair", "fancy", "fleet", "gentle", "glad", "golden", "grand", "happy", "hardy",
            "jolly", "keen", "kind", "lively", "lucky", "merry", "mellow", "nimble", "noble", "patient",
            "plucky", "polite", "proud", "quick", "quiet", "rapid", "ready", "sharp", "shy", "snug",
            "steady", "sunny", "swift", "tidy", "trusty", "vivid", "warm", "wise", "witty", "zesty");

    private static final List<String> ANIMALS = List.of(
            "badger", "beaver", "bison", "crane", "cricket", "dingo", "dolphin", "eagle", "falcon", "ferret",
            "finch", "gecko", "heron", "ibex", "jackal", "koala", "lemur", "lynx", "marten", "mole",
            "moose", "newt", "ocelot", "orca", "otter", "owl", "panda", "puffin", "quail", "rabbit",
            "raven", "robin", "salmon", "seal", "shrew", "sparrow", "stoat", "swan", "tapir", "tiger",
            "toad", "trout", "turtle", "viper", "vole", "walrus", "weasel", "wombat", "wren", "yak");

    public SessionName {
        if (value == null || !PATTERN.matcher(value).matches()) {
            throw new UserInputException("session name '" + value + "' is not allowed: use 1 to 32 lowercase letters, "
                    + "digits and dashes, starting with a letter or digit",
                    "for example: claude-cage start --name my-project");
        }
    }

    public static SessionName of(String value) {
        return new SessionName(value);
    }

    /** Whether {@code value} would be accepted, without an exception: for folder listings that may hold strays. */
    public static boolean isValid(String value) {
        return value != null && PATTERN.matcher(value).matches();
    }

    /** A readable fresh name, like {@code brisk-otter}, that is not in {@code taken}. */
    public static SessionName generate(Set<String> taken, RandomGenerator random) {
        for (int attempt = 0; attempt < 200; attempt++) {
            String name = ADJECTIVES.get(random.nextInt(ADJECTIVES.size())) + "-"
                    + ANIMALS.get(random.nextInt(ANIMALS.size()));
            if (attempt >= 100) {
                name += "-" + (2 + random.nextInt(998));
            }
            if (!taken.contains(name)) {
                return new SessionName(name);
            }
        }
        throw new IllegalStateException("no free session name after 200 attempts among " + taken.size() + " sessions");
    }

    @Override
    public String toString() {
        return value;
    }
}
