package dev.claudecage.runtime;

import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

class RunOutcomeTest {

    @Test
    void theCommandsOwnExitCodeWhenTheRuntimeLoggedNoError() {
        assertEquals(0, RunOutcome.of(0, Optional.empty()).exitCode());
        assertEquals(7, RunOutcome.of(7, Optional.empty()).exitCode());
    }

    @Test
    void notFoundIs127() {
        assertEquals(127, RunOutcome.of(1, Optional.of("runc run failed: unable to start container process: "
                + "exec: \"nosuch\": executable file not found in $PATH")).exitCode());
        assertEquals(127, RunOutcome.of(1, Optional.of("runc run failed: unable to start container process: "
                + "exec: \"/no/such\": stat /no/such: no such file or directory")).exitCode());
    }

    @Test
    void runscsNotFoundIs127Too() {
        assertEquals(127, RunOutcome.of(128, Optional.of("running container: starting container: starting root container: "
                + "starting sandbox: creating process: failed to load /nonexistent: no such file or directory")).exitCode());
    }

    @Test
    void notExecutableIs126() {
        assertEquals(126, RunOutcome.of(1, Optional.of("runc run failed: unable to start container process: "
                + "exec: \"/etc/passwd\": permission denied")).exitCode());
    }

    @Test
    void anyOtherRuntimeFailureIs125() {
        assertEquals(125, RunOutcome.of(1, Optional.of("cgroups in hybrid mode not supported")).exitCode());
    }
}
