package dev.claudecage.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import static dev.claudecage.it.CageHarness.cage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What an image's VOLUME, STOPSIGNAL and HEALTHCHECK mean for a session, with real runc: each
 * volume a tmpfs of the cage user's (unless the workspace covers it), stop sending the image's
 * signal, the supervisor running the check as the cage's user and status and list showing it.
 */
@ExtendWith(CleanSessionHost.class)
class ImageRuntimeIT {

    private static final Duration SETTLE = Duration.ofSeconds(30);

    @TempDir
    Path context;
    @TempDir
    Path home;
    private Path workspace;

    private final List<String> images = new ArrayList<>();

    /** A user's own folder that the cage's uid may write in, as a shared project folder would be. */
    @BeforeEach
    void makeWorkspace() throws Exception {
        workspace = Files.createDirectory(home.resolve("workspace"));
        HostFolders.ownByAUser(workspace);
        Files.setPosixFilePermissions(workspace, PosixFilePermissions.fromString("rwxrwxrwx"));
    }

    @AfterEach
    void removeImages() {
        ImageBuildIT.removeImages(images);
    }

    private String buildImage(String dockerfile) throws Exception {
        Files.writeString(context.resolve("Dockerfile"), dockerfile);
        String name = "it-runtime-" + HexFormat.of().formatHex(new SecureRandom().generateSeed(4));
        images.add(name);
        CageHarness.Result built = ImageBuildIT.build(name, context);
        assertEquals(0, built.exitCode(), built.toString());
        return name;
    }

    /** Waits until the session's state (as list shows it) is {@code expected}; returns the last one seen. */
    private static String awaitState(String session, String expected) throws Exception {
        long deadline = System.nanoTime() + SETTLE.toNanos();
        String state = SessionLifecycleIT.state(session);
        while (!state.equals(expected) && System.nanoTime() < deadline) {
            Thread.sleep(250);
            state = SessionLifecycleIT.state(session);
        }
        return state;
    }

    @Test
    void volumesAreTmpfsStopSendsTheStopSignalAndTheHealthcheckRunsAsTheCagesUser() throws Exception {
        String image = buildImage("""
                FROM debian:bookworm
                RUN mkdir -p /data && echo from-the-image > /data/hidden
                VOLUME /data /workspace/inner
                STOPSIGNAL SIGUSR1
                HEALTHCHECK --interval=1s --timeout=5s --retries=2 CMD id -u > /tmp/checked-by && test -f /tmp/healthy
                """);
        CageHarness.Result start = cage("start", "--detach", "--name", "it-image-runtime", "--image", image,
                "--network", "none", "--mount", workspace + ":/workspace", "--", "sh", "-c",
                "trap 'echo got-usr1 > /workspace/signal; exit 0' USR1; trap 'echo got-term > /workspace/signal; exit 0' TERM; "
                        + "while :; do sleep 0.1; done");
        assertEquals(0, start.exitCode(), start.toString());

        CageHarness.Result volumes = cage("shell", "it-image-runtime", "--", "sh", "-c",
                "grep -E ' /data | /workspace/inner ' /proc/mounts | cut -d' ' -f2,3; ls -A /data; "
                        + "touch /data/mine && stat -c '%u %a' /data");
        assertEquals(0, volumes.exitCode(), volumes.toString());
        assertEquals("/data tmpfs\n1000 755\n", volumes.stdout(), "a tmpfs of its own, empty (the image's file is hidden), "
                + "the cage user's; /workspace/inner is the workspace's: " + volumes);
        JsonNode status = SessionLifecycleIT.status("it-image-runtime");
        assertTrue(status.path("policy").path("policy").path("mounts").toString().contains("tmpfs:/data (VOLUME)"),
                status.toString());

        assertEquals("running (unhealthy)", awaitState("it-image-runtime", "running (unhealthy)"),
                "no /tmp/healthy: two failed checks");
        assertEquals(0, cage("shell", "it-image-runtime", "--", "touch", "/tmp/healthy").exitCode());
        assertEquals("running (healthy)", awaitState("it-image-runtime", "running (healthy)"));
        assertEquals("running (healthy)", SessionLifecycleIT.status("it-image-runtime").path("state").asText());
        CageHarness.Result checkedBy = cage("shell", "it-image-runtime", "--", "cat", "/tmp/checked-by");
        assertEquals("1000\n", checkedBy.stdout(), "the check runs as the cage's user: " + checkedBy);
        assertEquals(0, cage("shell", "it-image-runtime", "--", "rm", "/tmp/healthy").exitCode());
        assertEquals("running (unhealthy)", awaitState("it-image-runtime", "running (unhealthy)"));

        CageHarness.Result stop = cage("stop", "it-image-runtime");
        assertEquals(0, stop.exitCode(), stop.toString());
        assertEquals("got-usr1\n", Files.readString(workspace.resolve("signal")),
                "the image's STOPSIGNAL arrived, not SIGTERM (which the cage would have recorded as got-term)");
        assertEquals("stopped", SessionLifecycleIT.state("it-image-runtime"), "no health once stopped");
    }

    @Test
    void withoutAStopSignalStopSendsSigtermAndNoHealthcheckRunsNoCheck() throws Exception {
        String image = buildImage("""
                FROM debian:bookworm
                HEALTHCHECK --interval=1s --retries=1 CMD false
                """);
        CageHarness.Result start = cage("start", "--detach", "--name", "it-image-plain", "--image", image,
                "--no-healthcheck", "--network", "none", "--mount", workspace + ":/workspace", "--", "sh", "-c",
                "trap 'echo got-usr1 > /workspace/signal; exit 0' USR1; trap 'echo got-term > /workspace/signal; exit 0' TERM; "
                        + "while :; do sleep 0.1; done");
        assertEquals(0, start.exitCode(), start.toString());
        Thread.sleep(3000);
        assertEquals("running", SessionLifecycleIT.state("it-image-plain"), "--no-healthcheck: the failing check never ran");
        assertEquals(0, cage("stop", "it-image-plain").exitCode());
        assertEquals("got-term\n", Files.readString(workspace.resolve("signal")), "the control: SIGTERM by default");
        assertFalse(Files.readString(workspace.resolve("signal")).contains("usr1"));
    }
}
