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

    private final Map<IdShift, Integer> namespaces = new LinkedHashMap<>();

    /** The namespace that holds {@code shift}, as a descriptor these shifts own. */
    public synchronized int namespace(IdShift shift) {
        return namespaces.computeIfAbsent(shift,
                wanted -> MappedUserNamespace.open(IdShift.mapFile(wanted.uids()), IdShift.mapFile(wanted.gids())));
    }

    @Override
    public synchronized void close() {
        namespaces.values().forEach(LinuxSyscalls.get()::close);
        namespaces.clear();
    }
}
