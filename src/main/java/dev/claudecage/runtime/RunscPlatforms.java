package dev.claudecage.runtime;

import dev.claudecage.CageException;
import dev.claudecage.host.Directories;
import dev.claudecage.process.CommandResult;
import dev.claudecage.process.ProcessRunner;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * gVisor's platforms: how its kernel (the sentry) takes the cage's system calls. ptrace works
 * wherever runsc does; kvm is faster on bare metal but needs {@code /dev/kvm} and, in a virtual
 * machine, nested virtualization, without which it hangs rather than fails. So a platform is
 * proven by running {@code true} on it within a bound, and {@code auto} picks kvm only where
 * {@code claude-cage doctor} proved it since the last boot (the proof lies in the runtime state,
 * under /run): a cage's start never waits on a probe.
 */
public final class RunscPlatforms {

    public static final String AUTO = "auto";
    public static final String PTRACE = "ptrace";
    public static final String KVM = "kvm";
    /** The platforms claude-cage drives, the safe one first; systrap is not in Debian 12's runsc (20221219). */
    public static final List<String> PLATFORMS = List.of(PTRACE, KVM);
    /** ptrace answers in a fraction of a second; a platform that has not answered by then hangs. */
    static final Duration PROBE_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration CLEANUP_TIMEOUT = Duration.ofSeconds(10);
    private static final Path KVM_DEVICE = Path.of("/dev/kvm");

    private RunscPlatforms() {
    }

    /** One platform tried on this host: whether {@code true} ran on it, and what happened. */
    public record Probe(String platform, boolean works, String detail) {
    }

    /** The platform for {@code setting} (auto, ptrace or kvm), with the proofs kept under {@code runtimeState}. */
    public static String choose(String setting, Path runtimeState) {
        if (!AUTO.equals(setting)) {
            return setting;
        }
        return Files.isRegularFile(proof(runtimeState, KVM)) ? KVM : PTRACE;
    }

    /**
     * Runs {@code true} on each platform, each within {@link #PROBE_TIMEOUT}, and keeps the proof of
     * those that work for {@link #choose}. Needs root, as runsc does.
     */
    public static List<Probe> probe(Path runsc, Path runtimeState, ProcessRunner runner) {
        List<Probe> probes = new ArrayList<>();
        for (String platform : PLATFORMS) {
            Probe probe = KVM.equals(platform) && !Files.exists(KVM_DEVICE)
                    ? new Probe(platform, false, "no " + KVM_DEVICE + " (no hardware virtualization offered to this host)")
                    : run(runsc, platform, runtimeState, runner);
            record(runtimeState, probe);
            probes.add(probe);
        }
        return probes;
    }

    private static Probe run(Path runsc, String platform, Path runtimeState, ProcessRunner runner) {
        // A state root of its own: a probe killed on its timeout may leave a sandbox, removed from there,
        // and never one of the cages'.
        Path probeRoot = runtimeState.resolve("runsc-probe-" + platform);
        List<String> base = List.of(runsc.toString(), "--root", probeRoot.toString());
        long started = System.nanoTime();
        try {
            Directories.createPrivate(probeRoot);
            List<String> command = new ArrayList<>(base);
            command.addAll(List.of("--platform=" + platform, "--network=none", "do", "true"));
            CommandResult result = runner.runAllowingFailure(command, PROBE_TIMEOUT);
            long millis = (System.nanoTime() - started) / 1_000_000;
            return result.succeeded() ? new Probe(platform, true, "ran true in " + millis + " ms")
                    : new Probe(platform, false, "failed: " + lastLine(result));
        } catch (IOException e) {
            return new Probe(platform, false, "cannot make " + probeRoot + ": " + e.getMessage());
        } catch (CageException timedOut) {
            return new Probe(platform, false, "hangs: no answer within " + PROBE_TIMEOUT.toSeconds() + " s"
                    + (KVM.equals(platform) ? " (a virtual machine without nested virtualization)" : ""));
        } finally {
            removeLeftovers(base, probeRoot, runner);
        }
    }

    private static void removeLeftovers(List<String> base, Path probeRoot, ProcessRunner runner) {
        if (!Files.isDirectory(probeRoot)) {
            return;
        }
        List<String> list = new ArrayList<>(base);
        list.addAll(List.of("list", "--quiet"));
        for (String id : runner.runAllowingFailure(list, CLEANUP_TIMEOUT).stdout().lines().map(String::strip)
                .filter(line -> !line.isEmpty()).toList()) {
            List<String> delete = new ArrayList<>(base);
            delete.addAll(List.of("delete", "--force", id));
            runner.runAllowingFailure(delete, CLEANUP_TIMEOUT);
        }
        try {
            Directories.deleteRecursively(probeRoot);
        } catch (IOException e) {
            System.err.println("claude-cage: could not remove " + probeRoot + ": " + e.getMessage());
        }
    }

    private static void record(Path runtimeState, Probe probe) {
        Path proof = proof(runtimeState, probe.platform());
        try {
            if (probe.works()) {
                Directories.writePrivateFile(proof, probe.detail() + "\n");
            } else {
                Files.deleteIfExists(proof);
            }
        } catch (IOException e) {
            System.err.println("claude-cage: could not record gVisor's " + probe.platform() + " probe in " + proof
                    + ": " + e.getMessage());
        }
    }

    private static Path proof(Path runtimeState, String platform) {
        return runtimeState.resolve("runsc-" + platform + "-works");
    }

    private static String lastLine(CommandResult result) {
        String output = result.stderr().isBlank() ? result.stdout() : result.stderr();
        List<String> lines = output.lines().map(String::strip).filter(line -> !line.isEmpty()).toList();
        return lines.isEmpty() ? "exit code " + result.exitCode() : lines.get(lines.size() - 1);
    }
}
