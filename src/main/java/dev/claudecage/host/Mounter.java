package dev.claudecage.host;

import java.nio.file.Path;

/**
 * Mounts and unmounts in this process's own namespaces: {@link Mounts#SYSTEM_CALLS} makes them; a
 * test of what prepares a cage records them instead.
 */
public interface Mounter {

    /**
     * Mounts an overlay on {@code target} with overlayfs's {@code options}.
     *
     * @param what what is being mounted, for the error
     */
    void overlay(String options, Path target, String what);

    /**
     * Unmounts {@code target}; one that is not mounted, or not there, is gone already and no failure.
     *
     * @param detachWhenBusy whether a busy mount is detached (unmounted lazily) rather than left
     * @param what           what is mounted there, for the error
     */
    void unmount(Path target, boolean detachWhenBusy, String what);
}
