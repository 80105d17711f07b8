package dev.claudecage.net.proxy;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** A harness per test, and everything a test opens closed after it, newest first. */
abstract class ProxyTestBase {

    @TempDir
    Path dir;

    ProxyHarness harness;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @BeforeEach
    void createHarness() {
        harness = track(new ProxyHarness(dir));
    }

    @AfterEach
    void closeAll() throws Exception {
        Collections.reverse(toClose);
        for (AutoCloseable closeable : toClose) {
            closeable.close();
        }
    }

    <T extends AutoCloseable> T track(T closeable) {
        toClose.add(closeable);
        return closeable;
    }
}
