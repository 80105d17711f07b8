package dev.claudecage.session;

/**
 * A container as the runtime reports it under our state root.
 *
 * @param pid    the container's init process as seen from the host, 0 when it has none
 * @param status created, running, paused or stopped
 */
public record RuntimeContainer(String runtime, String id, long pid, String status) {

    public boolean running() {
        return "running".equals(status) || "created".equals(status) || "paused".equals(status);
    }
}
