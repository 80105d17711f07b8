package dev.claudecage.runtime;

import dev.claudecage.config.CageConfig;
import dev.claudecage.config.NetworkMode;
import dev.claudecage.oci.CageRequest;
import dev.claudecage.oci.SpecBuilderTest;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which runs write an evidence trail: the kept ones, and the filtered ones, whose denials it counts. */
class OneShotRunTest {

    private static CagePlan plan(NetworkMode network) {
        CageConfig config = SpecBuilderTest.config(List.of()).withNetwork(network);
        return new CagePlan(config, List.of(Path.of("/rootfs")), CageRequest.ImageDefaults.NONE, null, null, null,
                null, null);
    }

    @Test
    void aTrailTheUserKeepsIsWrittenInEveryNetworkMode() {
        OneShotRun.Options kept = new OneShotRun.Options(null, Path.of("/tmp/audit.jsonl"));
        for (NetworkMode network : NetworkMode.values()) {
            assertTrue(OneShotRun.keepsTrail(plan(network), kept), network.name());
        }
    }

    @Test
    void aFilteredRunWritesItsTrailToCountTheDenialsEvenUnkept() {
        assertTrue(OneShotRun.keepsTrail(plan(NetworkMode.FILTERED), new OneShotRun.Options(null, null)));
    }

    @Test
    void aRunWithNoNetworkOfItsOwnToLogWritesNoTrailNoOneKeeps() {
        assertFalse(OneShotRun.keepsTrail(plan(NetworkMode.NONE), new OneShotRun.Options(null, null)));
        assertFalse(OneShotRun.keepsTrail(plan(NetworkMode.HOST), new OneShotRun.Options(null, null)));
    }
}
