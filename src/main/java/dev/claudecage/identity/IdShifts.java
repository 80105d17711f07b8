package dev.claudecage.identity;

import dev.claudecage.host.LinuxSyscalls;
import dev.claudecage.host.MappedUserNamespace;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The shifting user namespaces one cage's idmapped mounts need, one per distinct {@link IdShift},
 * each made when first asked for and held as a descriptor ({@link MappedUserNamespace}).
 * {@link #close()} closes them; the mounts made with them keep their namespaces.
 */
public final class IdShifts implements AutoCloseable {

    /**
     * Keyed by the two map files' text (digits, spaces and newlines, so "/" parts them), not by the
     * record: a record's hashCode and equals are linked through method handles on first use, which
     * spun about 15 classes, 15 to 25 ms of a cold JVM, on the one-shot run's path to its clone.
     */
    private final Map<String, Integer> namespaces = new LinkedHashMap<>();

    /** The namespace that holds {@code shift}, as a descriptor these shifts own. */
    public synchronized int namespace(IdShift shift) {
        String uids = IdShift.mapFile(shift.uids());
        String gids = IdShift.mapFile(shift.gids());
        return namespaces.computeIfAbsent(uids + "/" + gids, key -> MappedUserNamespace.open(uids, gids));
    }

    @Override
    public synchronized void close() {
        namespaces.values().forEach(LinuxSyscalls.get()::close);
        namespaces.clear();
    }
}
