package dev.claudecage.it;

import dev.claudecage.process.CommandResult;
import dev.claudecage.process.ProcessRunner;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Debian package as {@code make deb} builds it: what it holds and declares, lintian's verdict,
 * the same bytes from the same tree, and {@code apt-get install ./claude-cage_*.deb} into a fresh
 * Debian 12 root (a copy of the debootstrapped minbase rootfs, in a chroot), where
 * {@code claude-cage --version} and {@code claude-cage doctor} run and {@code dpkg -r} removes it again.
 */
class DebianPackageIT {

    private static final ProcessRunner RUNNER = new ProcessRunner(false);
    private static final Path REPO = Path.of("").toAbsolutePath();
    /** Packages downloaded by earlier runs of the install test (Debian's mirrors are the only network it uses). */
    private static final Path ARCHIVES_CACHE = Path.of("/var/cache/claude-cage/test-apt-archives");

    private static Path work;
    private static Path deb;

    @BeforeAll
    static void buildThePackage() throws IOException {
        work = Files.createTempDirectory("claude-cage-deb-it");
        deb = make(work.resolve("first"));
    }

    @AfterAll
    static void removeWork() {
        if (work != null) {
            RUNNER.runAllowingFailure(List.of("rm", "-rf", "--one-file-system", work.toString()), Duration.ofMinutes(2));
        }
    }

    /**
     * {@code make deb} in the checkout, the jar as Maven just built it (-o: make must not start a build of
     * its own inside this one); the completions and man pages are made again from that jar. The package is
     * moved into {@code into}.
     */
    private static Path make(Path into) throws IOException {
        RUNNER.run(List.of("rm", "-rf", "target/completion", "target/man"), Duration.ofSeconds(30));
        CommandResult made = RUNNER.run(List.of("make", "-C", REPO.toString(), "--no-print-directory",
                "-o", "target/claude-cage.jar", "deb"), Duration.ofMinutes(5));
        String line = made.stdout().lines().filter(l -> l.startsWith("built ")).reduce((a, b) -> b).orElseThrow(
                () -> new AssertionError("make deb said no 'built ...': " + made.stdout()));
        Path built = REPO.resolve(line.substring("built ".length()));
        assertTrue(built.getFileName().toString().matches("claude-cage_[0-9][0-9A-Za-z.+~]*_all\\.deb"), built.toString());
        Files.createDirectories(into);
        return Files.move(built, into.resolve(built.getFileName()), StandardCopyOption.REPLACE_EXISTING);
    }

    private static String field(String name) {
        return RUNNER.run(List.of("dpkg-deb", "-f", deb.toString(), name), Duration.ofSeconds(30)).stdout().strip();
    }

    @Test
    void thePackageDeclaresDebiansRuntimeAndJava17OrNewer() {
        assertEquals("claude-cage", field("Package"));
        assertEquals("all", field("Architecture"));
        assertTrue(deb.getFileName().toString().equals("claude-cage_" + field("Version") + "_all.deb"), deb.toString());
        List<String> depends = Arrays.stream(field("Depends").split(",\\s*")).toList();
        assertTrue(depends.contains("default-jre-headless (>= 2:1.17) | java17-runtime-headless"), depends.toString());
        assertTrue(depends.containsAll(List.of("runc", "nftables", "iproute2", "uidmap", "socat", "tcpdump", "debootstrap")),
                depends.toString());
    }

    @Test
    void thePackageHoldsTheLauncherJarCompletionsManPagesDockerfilesAndProfile() {
        List<String> listing = RUNNER.run(List.of("dpkg-deb", "-c", deb.toString()), Duration.ofSeconds(30)).stdout()
                .lines().toList();
        List<String> paths = listing.stream().map(line -> line.substring(line.indexOf("./") + 1)).toList();
        List<String> expected = List.of("/usr/bin/claude-cage", "/usr/lib/claude-cage/claude-cage.jar",
                "/usr/lib/claude-cage/cds.sh", "/usr/lib/claude-cage/make-id-pool.sh",
                "/usr/lib/claude-cage/docker/cli/Dockerfile",
                "/usr/lib/claude-cage/docker/desktop/Dockerfile", "/usr/lib/claude-cage/docker/desktop/entrypoint-desktop.sh",
                "/usr/lib/claude-cage/rootfs-builder/make-minbase-rootfs.sh", "/etc/apparmor.d/claude-cage",
                "/usr/share/bash-completion/completions/claude-cage", "/usr/share/zsh/vendor-completions/_claude-cage",
                "/usr/share/fish/vendor_completions.d/claude-cage.fish", "/usr/share/man/man1/claude-cage.1.gz",
                "/usr/share/man/man1/claude-cage-run.1.gz", "/usr/share/man/man1/claude-cage-image-save.1.gz",
                "/usr/share/doc/claude-cage/copyright", "/usr/share/doc/claude-cage/changelog.gz");
        List<String> missing = expected.stream().filter(path -> !paths.contains(path)).toList();
        assertEquals(List.of(), missing, String.join("\n", listing));
        assertEquals(List.of(), listing.stream().filter(line -> !line.contains(" root/root ")).toList(), "owned by root");
        assertEquals(List.of(), paths.stream().filter(path -> path.endsWith(".jsa") || path.contains("/target/")).toList(),
                "the class-data archive is made at install, for the host's Java");
        CommandResult conffiles = RUNNER.run(List.of("sh", "-c", "dpkg-deb --ctrl-tarfile \"$0\" | tar -xOf - ./conffiles",
                deb.toString()), Duration.ofSeconds(30));
        assertEquals("/etc/apparmor.d/claude-cage", conffiles.stdout().strip());
    }

    @Test
    void lintianFindsNoError() {
        boolean lintian = Files.isExecutable(Path.of("/usr/bin/lintian"));
        if (!lintian) {
            System.out.println("NOT RUN: lintian is not installed (scripts/install-deps.sh --tests installs it)");
        }
        Assumptions.assumeTrue(lintian, "lintian is not installed (scripts/install-deps.sh --tests installs it)");
        CommandResult result = RUNNER.runAllowingFailure(List.of("lintian", "--no-cfg", deb.toString()), Duration.ofMinutes(5));
        List<String> errors = result.stdout().lines().filter(line -> line.startsWith("E: ")).toList();
        assertEquals(List.of(), errors, result.stdout() + result.stderr());
        assertEquals(0, result.exitCode(), result.stdout() + result.stderr());
    }

    @Test
    void theSameTreeGivesTheSameBytes() throws IOException {
        Path second = make(work.resolve("second"));
        assertArrayEquals(Files.readAllBytes(deb), Files.readAllBytes(second), deb + " and " + second + " differ");
    }

    @Test
    void aptGetInstallsItIntoAFreshDebianWhereItRunsAndIsRemovedAgain() throws IOException {
        CageHarness.requireRootAndRootfs();
        Path root = work.resolve("debian");
        RUNNER.run(List.of("cp", "-a", CageHarness.ROOTFS.toString(), root.toString()), Duration.ofMinutes(5));
        Files.copy(Path.of("/etc/resolv.conf"), root.resolve("etc/resolv.conf"), StandardCopyOption.REPLACE_EXISTING);
        // No daemon of a dependency starts in the chroot (Debian's policy-rc.d convention).
        Files.writeString(root.resolve("usr/sbin/policy-rc.d"), "#!/bin/sh\nexit 101\n");
        RUNNER.run(List.of("chmod", "755", root.resolve("usr/sbin/policy-rc.d").toString()), Duration.ofSeconds(10));
        Files.copy(deb, root.resolve("tmp").resolve(deb.getFileName()));
        Path archives = root.resolve("var/cache/apt/archives");
        copyDebs(ARCHIVES_CACHE, archives);
        Path proc = root.resolve("proc");
        RUNNER.run(List.of("mount", "-t", "proc", "proc", proc.toString()), Duration.ofSeconds(30));
        try {
            chroot(root, "apt-get update -qq", Duration.ofMinutes(5));
            CommandResult installed = chroot(root, "cd /tmp && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
                    + "--no-install-recommends ./claude-cage_*.deb", Duration.ofMinutes(15));
            Files.createDirectories(ARCHIVES_CACHE);
            copyDebs(archives, ARCHIVES_CACHE);
            assertEquals(0, installed.exitCode(), installed.stdout() + installed.stderr());

            CommandResult version = chroot(root, "claude-cage --version", Duration.ofMinutes(1));
            assertEquals(0, version.exitCode(), version.stdout() + version.stderr());
            assertTrue(version.stdout().startsWith("claude-cage "), version.stdout());
            CommandResult doctor = chroot(root, "claude-cage doctor", Duration.ofMinutes(2));
            assertTrue(doctor.exitCode() == 0 || doctor.exitCode() == 1, "doctor answers can or cannot run, not a failure: "
                    + doctor.stdout() + doctor.stderr());
            // The dependencies came in: the runtime and nft work there.
            for (String check : List.of("runtime runc", "nft")) {
                assertTrue(doctor.stdout().lines().anyMatch(line -> line.matches(check + " +ok .*")), check + ":\n" + doctor.stdout());
            }
            assertTrue(Files.isRegularFile(root.resolve("usr/share/man/man1/claude-cage-run.1.gz")));
            // The full archive for every command, the light one for the light commands (config).
            for (String archive : List.of("claude-cage.jsa", "claude-cage.light.jsa")) {
                assertTrue(Files.isRegularFile(root.resolve("usr/lib/claude-cage/" + archive)),
                        "the postinst made the launcher's class-data archive " + archive);
                String command = archive.equals("claude-cage.jsa") ? "run --help" : "config";
                CommandResult mapped = chroot(root, "CLAUDE_CAGE_JAVA_OPTS='-Xlog:class+load -Xlog:cds' claude-cage " + command,
                        Duration.ofMinutes(1));
                assertTrue(mapped.stdout().contains("/usr/lib/claude-cage/" + archive),
                        command + " maps " + archive + ": " + mapped.stdout() + mapped.stderr());
                assertTrue(mapped.stdout().contains("dev.claudecage.cli.Main source: shared objects file"),
                        "the installed launcher maps the archive its postinst made: " + mapped.stdout() + mapped.stderr());
                assertTrue(mapped.stdout().contains("CDS heap data relocation delta = 0 bytes"),
                        "its Java objects where they were dumped, unpatched: " + mapped.stdout());
            }
            CommandResult pool = chroot(root, "getent passwd claude-cage && grep ^claude-cage: /etc/subuid /etc/subgid",
                    Duration.ofMinutes(1));
            assertEquals(0, pool.exitCode(), "the postinst made the claude-cage account and its subordinate ids: "
                    + pool.stdout() + pool.stderr());

            CommandResult removed = chroot(root, "dpkg --purge claude-cage", Duration.ofMinutes(2));
            assertEquals(0, removed.exitCode(), removed.stdout() + removed.stderr());
            assertFalse(Files.exists(root.resolve("usr/lib/claude-cage")), "the postrm removed the archive and the folder");
            assertFalse(Files.exists(root.resolve("usr/bin/claude-cage")));
        } finally {
            RUNNER.run(List.of("umount", proc.toString()), Duration.ofSeconds(30));
        }
    }

    private static CommandResult chroot(Path root, String script, Duration timeout) {
        List<String> command = new ArrayList<>(List.of("env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root",
                "LANG=C.UTF-8", "chroot", root.toString(), "sh", "-c", script));
        return RUNNER.runAllowingFailure(command, timeout);
    }

    private static void copyDebs(Path from, Path to) throws IOException {
        if (!Files.isDirectory(from)) {
            return;
        }
        try (Stream<Path> debs = Files.list(from)) {
            for (Path file : debs.filter(path -> path.toString().endsWith(".deb") && Files.isRegularFile(path)).toList()) {
                if (!Files.exists(to.resolve(file.getFileName()))) {
                    Files.copy(file, to.resolve(file.getFileName()));
                }
            }
        }
    }
}
