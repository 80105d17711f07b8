package dev.claudecage.process;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;

/** How to run claude-cage's own code again in another JVM: the same java, the same class path. */
public final class ThisJvm {

    /**
     * JNA loads its native library: Java 22 and newer warn about that on stderr, at every start, unless the
     * class path may (Java 17 accepts the flag too). Every JVM of claude-cage's starts with it.
     */
    public static final String NATIVE_ACCESS = "--enable-native-access=ALL-UNNAMED";

    private ThisJvm() {
    }

    /** The java that runs this process, so that an installed claude-cage and a source tree each start their own. */
    public static Path java() {
        return ProcessHandle.current().info().command().map(Path::of)
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java"));
    }

    /** {@code classPath} with every entry absolute: the new JVM may start in another folder. */
    public static String absoluteClassPath(String classPath) {
        return Arrays.stream(classPath.split(java.io.File.pathSeparator))
                .filter(entry -> !entry.isEmpty())
                .map(entry -> Path.of(entry).toAbsolutePath().normalize().toString())
                .collect(Collectors.joining(java.io.File.pathSeparator));
    }
}
