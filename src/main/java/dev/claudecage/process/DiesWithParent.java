package dev.claudecage.process;

import dev.claudecage.CageException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A helper process that must not outlive the JVM that started it, even one killed with SIGKILL
 * (a relay, the drop logger): it gets SIGKILL from the kernel when the thread that started it
 * ends. An orphan would keep the cage's network namespace alive and its pipes open.
 */
public final class DiesWithParent {

    private DiesWithParent() {
    }

    /** {@code command}, run through setpriv with a parent-death signal; start it from a thread that lives as long. */
    public static List<String> wrap(List<String> command) {
        String setpriv = Executables.find("setpriv").map(Path::toString).orElseThrow(() -> new CageException(
                "setpriv is not installed; claude-cage needs it to tie its helper processes to their launcher",
                "apt-get install util-linux"));
        List<String> wrapped = new ArrayList<>(List.of(setpriv, "--pdeathsig", "KILL", "--"));
        wrapped.addAll(command);
        return wrapped;
    }
}
