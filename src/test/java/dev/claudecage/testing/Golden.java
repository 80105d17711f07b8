package dev.claudecage.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Golden files: generated output compared byte for byte with a checked-in file. Run the tests
 * with {@code -Dclaudecage.updateGolden=true} to rewrite the files after a deliberate change,
 * then review the diff like code.
 */
public final class Golden {

    private Golden() {
    }

    public static void assertMatches(Path goldenFile, String actual) throws IOException {
        if (Boolean.getBoolean("claudecage.updateGolden")) {
            Files.createDirectories(goldenFile.getParent());
            Files.writeString(goldenFile, actual);
            return;
        }
        if (!Files.exists(goldenFile)) {
            throw new AssertionError(goldenFile + " does not exist; create it with -Dclaudecage.updateGolden=true");
        }
        assertEquals(Files.readString(goldenFile), actual,
                goldenFile + " differs from the generated output; if the change is intended, "
                        + "rerun with -Dclaudecage.updateGolden=true and review the diff");
    }
}
