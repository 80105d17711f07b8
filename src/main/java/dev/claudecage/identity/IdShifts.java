package dev.claudecage.identity;

import dev.claudecage.CageException;
import dev.claudecage.process.ProcessRunner;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The shifting user namespaces one cage's idmapped mounts need, one {@link UsernsHolder} per
 * distinct {@link IdShift}, all started at once so that their processes start side by side.
 * {@link #close()} ends them; the mounts made with them keep their namespaces.
 */
public final class IdShifts implements AutoCloseable {

    private final ProcessRunner runner;
    private final Map<IdShift, UsernsHolder> holders = new LinkedHashMap<>();

    private IdShifts(ProcessRunner runner) {
        this.runner = runner;
    }

    public static IdShifts start(Collection<IdShift> shifts, ProcessRunner runner) {
        IdShifts started = new IdShifts(runner);
        try {
            shifts.forEach(started::holder);
            return started;
        } catch (RuntimeException e) {
            started.close();
            throw e;
        }
    }

    /** The namespace that holds {@code shift}, as a descriptor; started now if it was not among the first. */
    public synchronized int namespace(IdShift shift) {
        return holder(shift).descriptor();
    }

    private synchronized UsernsHolder holder(IdShift shift) {
        return holders.computeIfAbsent(shift, wanted -> UsernsHolder.start(wanted, runner));
    }

    @Override
    public synchronized void close() {
        List<String> failures = new ArrayList<>();
        for (UsernsHolder holder : holders.values()) {
            try {
                holder.close();
            } catch (RuntimeException e) {
                failures.add(e.getMessage());
            }
        }
        holders.clear();
        if (!failures.isEmpty()) {
            throw new CageException("cannot end the shifting namespaces: " + String.join("; ", failures));
        }
    }
}
