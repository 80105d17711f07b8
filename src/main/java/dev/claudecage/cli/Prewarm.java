package dev.claudecage.cli;

import dev.claudecage.config.CageConfig;
import dev.claudecage.config.ConfigLoader;
import dev.claudecage.host.LinuxSyscalls;
import dev.claudecage.json.Json;
import dev.claudecage.oci.CageRequest;
import dev.claudecage.oci.NetworkAttachment;
import dev.claudecage.oci.Spec;
import dev.claudecage.oci.SpecBuilder;
import dev.claudecage.security.SeccompPolicy;

import java.util.List;
import java.util.Map;

/**
 * Start-up only. While the main thread builds picocli's command model (picocli's class files are
 * too old for class-data sharing, so that part stays slow), a second thread does once, on the
 * other core, the work that {@code run} and {@code verify} do next: it parses the seccomp profile
 * (Jackson), loads and validates the configuration (SnakeYAML), writes a throwaway spec and loads
 * the C library binding (JNA). What it leaves behind is loaded and initialised classes and
 * Jackson's filled caches, so the real calls run warm. It writes no file and decides nothing; any failure is left for the real call
 * to report. It saves about 15 ms of a 230 ms {@code run} on an idle 2-core machine
 * (docs/performance.md).
 */
final class Prewarm {

    private Prewarm() {
    }

    /** Starts the warm-up for the commands that build a cage; for the others it does nothing. */
    static void startFor(String[] args) {
        if (args.length == 0 || !(args[0].equals("run") || args[0].equals("verify"))) {
            return;
        }
        Thread thread = new Thread(Prewarm::warm, "claude-cage-prewarm");
        thread.setDaemon(true);
        thread.start();
    }

    private static void warm() {
        try {
            // The seccomp profile first: the main thread loads the configuration itself soon,
            // and needs the profile only after that.
            Spec.Seccomp seccomp = SeccompPolicy.defaultPolicy().toOci(System.getProperty("os.arch"));
            CageConfig config = ConfigLoader.forThisHost().load(Map.of()).config();
            Json.write(SpecBuilder.build(config, new CageRequest(List.of("true"), false, "prewarm", "prewarm",
                    seccomp, null, NetworkAttachment.none())));
            // Last, being needed last: a cage with ids of its own idmaps its layers through it before it
            // starts, and every cage's teardown removes its folders through it.
            LinuxSyscalls.get();
        } catch (RuntimeException | LinkageError ignored) {
            // Only a head start: the real call does the same work and reports what is wrong.
        }
    }
}
