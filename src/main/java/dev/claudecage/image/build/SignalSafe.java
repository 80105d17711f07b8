package dev.claudecage.image.build;

/**
 * A build resource (a mounted root, a running step) that is also closed when the JVM is stopped
 * by a signal while it is open, so that Ctrl-C leaves no mount or container behind.
 */
final class SignalSafe<T extends SignalSafe.Resource> implements AutoCloseable {

    /** What can be guarded: its close() is idempotent and safe from another thread. */
    interface Resource extends AutoCloseable {
        @Override
        void close();
    }

    private final T resource;
    private final Thread hook;

    private SignalSafe(T resource) {
        this.resource = resource;
        this.hook = new Thread(() -> {
            try {
                resource.close();
            } catch (RuntimeException e) {
                System.err.println("claude-cage: " + e.getMessage());
            }
        }, "claude-cage-build-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    static <T extends Resource> SignalSafe<T> of(T resource) {
        return new SignalSafe<>(resource);
    }

    T get() {
        return resource;
    }

    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // A signal arrived: the hook is closing the resource.
            return;
        }
        resource.close();
    }
}
