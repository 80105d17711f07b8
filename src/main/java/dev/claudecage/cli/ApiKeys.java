package dev.claudecage.cli;

import java.util.function.Supplier;

/** Where the user's API key comes from: the flag, else the launcher's environment. */
final class ApiKeys {

    private ApiKeys() {
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
}
