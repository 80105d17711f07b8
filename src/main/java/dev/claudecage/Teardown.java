package dev.claudecage;

import java.util.ArrayList;
import java.util.List;

/**
 * What has to be undone, undone in reverse: each resource or step is pushed as it is made, and
 * {@link #close()} undoes them last first, going on past every failure, then throws one
 * {@link CageException} that names each step that failed. So a half-made thing (a cage whose root
 * did not mount, a network whose firewall was refused) is taken down by the same code as a whole
 * one, and one stuck step never leaves the others undone. Safe to close twice, and from a
 * shutdown hook: what is undone is gone from the stack.
 */
public final class Teardown implements AutoCloseable {

    /** The hint for a teardown of cage state that {@code gc} finds again later. */
    public static final String GC_REMOVES_THE_REST = "claude-cage gc removes what is left once the cause is fixed";

    /** One step of a teardown; what it throws is recorded, and the teardown goes on. */
    @FunctionalInterface
    public interface Step {
        void run() throws Exception;
    }

    private record Named(String name, Step step) {
    }

    private final String what;
    private final String hint;
    private final List<Named> stack = new ArrayList<>();
    private final List<String> failures = new ArrayList<>();

    /**
     * @param what what is torn down, as a failure names it: "cleanup of cage X" reads
     *             "cleanup of cage X was incomplete: ..."
     * @param hint what the user can do about a failure, or null
     */
    public Teardown(String what, String hint) {
        this.what = what;
        this.hint = hint;
    }

    /**
     * Pushes {@code resource}, closed in its turn, or a step to run then (a lambda); a null resource
     * is nothing to undo. Returns it.
     */
    public synchronized <T extends AutoCloseable> T push(String name, T resource) {
        if (resource != null) {
            stack.add(new Named(name, resource::close));
        }
        return resource;
    }

    /** Runs {@code step} now, in order rather than in reverse, recording its failure; whether it succeeded. */
    public boolean attempt(String name, Step step) {
        Exception failure = thrownBy(step);
        if (failure != null) {
            // A teardown within this one (a cage's network within the cage) is told step by step.
            List<String> named = failure instanceof Incomplete inner
                    ? inner.failures.stream().map(each -> name + ": " + each).toList()
                    : List.of(name + ": " + words(failure));
            synchronized (this) {
                failures.addAll(named);
            }
        }
        return failure == null;
    }

    /** Undoes everything pushed, last first, and returns every failure so far (of {@link #attempt} too), each named. */
    public List<String> undo() {
        while (true) {
            Named next;
            synchronized (this) {
                if (stack.isEmpty()) {
                    List<String> all = List.copyOf(failures);
                    failures.clear();
                    return all;
                }
                next = stack.remove(stack.size() - 1);
            }
            attempt(next.name(), next.step());
        }
    }

    /** Undoes everything pushed, last first; throws when a step failed, naming each. */
    @Override
    public void close() {
        List<String> failed = undo();
        if (!failed.isEmpty()) {
            throw new Incomplete(what, failed, hint);
        }
    }

    /** A teardown that left something behind: what, and each step that failed, named. */
    public static final class Incomplete extends CageException {

        private static final long serialVersionUID = 1L;

        private final List<String> failures;

        Incomplete(String what, List<String> failures, String hint) {
            super(what + " was incomplete: " + String.join("; ", failures), hint);
            this.failures = List.copyOf(failures);
        }

        /** Each step that failed: "what it was: why". */
        public List<String> failures() {
            return failures;
        }
    }

    /**
     * Closes {@code resource} after {@code failure} stopped its making: what the close throws is
     * added to {@code failure}, which stays the error the user sees. Returns {@code failure}.
     */
    public static <E extends Throwable> E closeAfter(AutoCloseable resource, E failure) {
        Exception cleanup = thrownBy(resource::close);
        if (cleanup != null) {
            failure.addSuppressed(cleanup);
        }
        return failure;
    }

    /**
     * Closes what is being given up anyway (a socket whose peer is gone, a stream read to its
     * end): a failure to close it changes nothing for the caller.
     */
    public static void closeQuietly(AutoCloseable resource) {
        if (resource != null) {
            thrownBy(resource::close);
        }
    }

    /** Runs the step; what it threw, or null. */
    private static Exception thrownBy(Step step) {
        try {
            step.run();
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return e;
        } catch (Exception e) {
            return e;
        }
    }

    private static String words(Exception e) {
        if (e instanceof InterruptedException) {
            return "interrupted";
        }
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }
}
