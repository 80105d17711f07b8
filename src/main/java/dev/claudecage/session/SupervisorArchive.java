package dev.claudecage.session;

import dev.claudecage.host.Directories;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.process.ThisJvm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The supervisors' class-data sharing archive (AppCDS), one per pinned jar and JDK, beside the jar.
 * A supervisor loads about 3,000 classes; from the jar, parsed and verified at every start, that
 * took about half of {@code start --detach}. The launcher's archive (bench/cds.sh) cannot serve:
 * an archive names the jar it was made for, and a supervisor runs from its pinned copy.
 *
 * <p>It is made from what a supervisor really loads: the first supervisor of a jar lists its
 * classes as it loads them ({@code -XX:DumpLoadedClassList}); once its cage runs, the start that
 * launched it keeps the list and dumps the archive in the background ({@code java -Xshare:dump},
 * about 1.5 s), so no start waits for it. Every later supervisor of that jar maps it. An archive is
 * only ever renamed into place whole; one the JVM cannot use (another JDK build) is ignored by it
 * ({@code -Xshare:auto}), silently.
 */
final class SupervisorArchive {

    private final Path jar;
    private final Path classList;
    private final Path archive;
    /** Where this start's supervisor lists its classes, when there is no list yet; else null. */
    private final Path listing;

    private SupervisorArchive(Path jar, String jdk) {
        this.jar = jar;
        String stem = stem(jar.getFileName().toString());
        this.classList = jar.resolveSibling(stem + ".classlist");
        this.archive = jar.resolveSibling(stem + ".jdk-" + jdk + ".jsa");
        this.listing = Files.exists(classList) ? null
                : jar.resolveSibling(stem + ".classlist.tmp-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
    }

    /** The archive of the pinned {@code jar} for the JDK that runs this process (and the supervisor). */
    static SupervisorArchive of(Path jar) {
        return new SupervisorArchive(jar, System.getProperty("java.vm.version").replaceAll("[^A-Za-z0-9._+-]", "_"));
    }

    /** The pinned jar a file of this folder belongs to: its jar, archives and class lists share its stem. */
    static String jarNameOf(String fileName) {
        return stem(fileName) + ".jar";
    }

    private static String stem(String fileName) {
        int dot = fileName.indexOf('.');
        return dot < 0 ? fileName : fileName.substring(0, dot);
    }

    Path archive() {
        return archive;
    }

    /** The supervisor's JVM flags: map the archive when there is one, list the classes when there is no list yet. */
    List<String> jvmFlags() {
        if (Files.isRegularFile(archive)) {
            return List.of("-XX:SharedArchiveFile=" + archive, "-Xlog:cds=off", "-Xlog:cds+dynamic=off");
        }
        return listing == null ? List.of() : List.of("-XX:DumpLoadedClassList=" + listing);
    }

    /**
     * The supervisor's cage runs: keep what it listed so far (what a start needs) as the jar's
     * list, and make the archive in the background when there is none. Never fails a start: without
     * an archive a supervisor only starts slower.
     */
    void supervisorStarted(ProcessRunner runner) {
        try {
            if (listing != null && Files.exists(listing)) {
                Directories.writeAtomically(classList, dumpable(Files.readAllBytes(listing)), "rw-r--r--");
            }
            if (Files.isRegularFile(classList) && !Files.exists(archive)) {
                dumpInBackground(runner);
            }
        } catch (IOException | RuntimeException e) {
            // No archive this time; the next start tries again.
        } finally {
            forgetListing();
        }
    }

    /** A start that failed leaves no half list behind. */
    void forgetListing() {
        if (listing != null) {
            try {
                Files.deleteIfExists(listing);
            } catch (IOException e) {
                // gc removes it with the jar.
            }
        }
    }

    /**
     * The lines a dump accepts: whole lines only (the supervisor may be writing one), no comments,
     * no classes the JDK generates at run time (never found at dump), each line once (a lambda
     * listed twice makes the JDK 17 dump crash).
     */
    static byte[] dumpable(byte[] listed) {
        String text = new String(listed, StandardCharsets.UTF_8);
        int end = text.lastIndexOf('\n');
        Set<String> lines = new LinkedHashSet<>();
        for (String line : text.substring(0, end + 1).split("\n")) {
            if (!line.isEmpty() && !line.startsWith("#") && !line.contains("$Proxy")) {
                lines.add(line);
            }
        }
        return (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8);
    }

    /**
     * {@code java -Xshare:dump} into a file of its own, renamed over the archive when whole: two
     * starts that dump at once each rename a whole archive. Detached like the supervisor, so
     * that this process exits at once.
     */
    private void dumpInBackground(ProcessRunner runner) {
        Path partial = archive.resolveSibling(archive.getFileName() + ".tmp-"
                + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        String script = "\"$1\" -Xshare:dump -XX:SharedClassListFile=\"$2\" -XX:SharedArchiveFile=\"$3\" -cp \"$4\""
                + " >/dev/null 2>&1 && mv -f \"$3\" \"$5\"; rm -f \"$3\"";
        runner.startBackground(List.of("setsid", "--fork", "env", "-C", "/", "sh", "-c", script, "sh",
                ThisJvm.java().toString(), classList.toString(), partial.toString(),
                jar.toString(), archive.toString()));
    }
}
