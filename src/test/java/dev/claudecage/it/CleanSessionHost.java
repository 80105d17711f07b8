package dev.claudecage.it;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * For tests of sessions: each test starts on a host with no test session ("it-...") and nothing a
 * session leaves behind, and must end the same way.
 */
final class CleanSessionHost implements BeforeEachCallback, AfterEachCallback {

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        CageHarness.requireRootAndRootfs();
        CageHarness.destroyTestSessions();
        assertEquals(List.of(), CageHarness.sessionLeftovers(), "the host holds session leftovers before the test");
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        CageHarness.destroyTestSessions();
        assertEquals(List.of(), CageHarness.sessionLeftovers(), "the sessions left something behind");
    }
}
