package dev.claudecage.cli;

import dev.claudecage.DaemonThreads;
import dev.claudecage.config.CageConfig;
import dev.claudecage.config.ConfigLoader;
import dev.claudecage.host.Host;
import dev.claudecage.host.LinuxSyscalls;
import dev.claudecage.identity.IdPool;
import dev.claudecage.image.store.Digest;
import dev.claudecage.json.Json;
import dev.claudecage.oci.CageRequest;
import dev.claudecage.oci.NetworkAttachment;
import dev.claudecage.oci.Spec;
import dev.claudecage.oci.SpecBuilder;
import dev.claudecage.security.SeccompPolicy;
import dev.claudecage.session.SessionReport;
import dev.claudecage.session.SessionRoots;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Start-up only. While the main thread builds picocli's command model (reflection over the
 * command's annotations, the largest part of a short call), a second thread does once, on the
 * other core, the work that the command does next. For {@code run} and {@code verify} it makes
 * the seccomp profile (built-in code), loads and validates the configuration (SnakeYAML for the files there are),
 * reads the pool of host ids a root cage takes its own from, loads the C
 * library binding (JNA) and writes a throwaway spec (Jackson's generator, without its mapper); the real call takes the
 * profile and defaults and finds the rest warm.
 * For {@code start} it makes the seccomp profile and loads Jackson's generator, which writes the session's plan.
 * For {@code inspect} and {@code status --json} it starts Jackson and builds the writer of a session's report
 * ({@code list} and {@code status} read records and policies without Jackson's mapper: session/SessionRecordReader,
 * session/SessionPolicyReader). For {@code build} only the JDK's SHA-256 (its security providers'
 * start): a rebuild with nothing changed is answered from the build's record (image/build/BuildRecord),
 * which hashes its key and the context's sources but needs neither the configuration nor the mapper,
 * whose warm-up would only compete with it for the CPU. What it leaves behind is loaded and initialised classes and
 * Jackson's filled caches. It writes no file and decides nothing; any failure is left for the
 * real call to report (docs/performance.md has what each saves).
 */
final class Prewarm {

    private Prewarm() {
    }

    /** Starts the warm-up for the commands that build a cage or read sessions; for the others it does nothing. */
    static void startFor(String[] args) {
        Runnable warm = args.length == 0 ? null : switch (args[0]) {
            case "run", "verify" -> Prewarm::cage;
            case "start" -> Prewarm::start;
            // status reads the policy without the mapper (session/SessionPolicyReader) and needs it only for --json.
            case "status" -> Arrays.asList(args).contains("--json") ? Prewarm::sessions : null;
            case "inspect" -> Prewarm::sessions;
            case "build" -> Digest::sha256;
            default -> null;
        };
        if (warm == null) {
            return;
        }
        DaemonThreads.start("claude-cage-prewarm", warm);
    }

    private static void sessions() {
        try {
            // Only where there is a session to read: with none, these commands read no JSON, and on
            // a busy machine the warm-up's work would only compete with the real call's.
            try (Stream<Path> sessions = Files.list(SessionRoots.current().data())) {
                if (sessions.findAny().isEmpty()) {
                    return;
                }
            }
            // Jackson's start (its date format alone loads the JDK's locale data), then the
            // serializers of the report, built and cached by the shared mapper.
            Json.mapper().writerFor(SessionReport.class);
        } catch (IOException | RuntimeException | LinkageError ignored) {
            // Only a head start: the real call does the same work and reports what is wrong.
        }
    }

    private static void start() {
        try {
            // What the start needs once the supervisor's JVM is on its way: the seccomp profile, and
            // Jackson's generator, which writes the plan (the supervisor waits for it) without the mapper.
            SeccompPolicy.defaultPolicy();
            Json.factory();
        } catch (RuntimeException | LinkageError ignored) {
            // Only a head start: the real call does the same work and reports what is wrong.
        }
    }

    private static void cage() {
        try {
            // The seccomp profile first: the main thread loads the configuration itself soon,
            // and needs the profile only after that.
            Spec.Seccomp seccomp = SeccompPolicy.defaultPolicy().toOci(System.getProperty("os.arch"));
            CageConfig config = ConfigLoader.forThisHost().load(Map.of()).config();
            // The C library binding before the plan's pool of host ids (a root cage's; the first use of
            // its parsing of the account and subordinate-id files): a cage with ids of its own idmaps its
            // layers through the binding before its spec is written, and its load (JNA's start, the
            // proxy class for libc) is the longer chain, which the main thread otherwise waits on there.
            LinuxSyscalls.get();
            if (Host.effectiveUid() == 0) {
                IdPool.resolve(config.usernsPool());
            }
            Json.writePlainRecord(SpecBuilder.build(config, new CageRequest(List.of("true"), false, "prewarm", "prewarm",
                    seccomp, null, NetworkAttachment.none())));
        } catch (RuntimeException | LinkageError ignored) {
            // Only a head start: the real call does the same work and reports what is wrong.
        }
    }
}
