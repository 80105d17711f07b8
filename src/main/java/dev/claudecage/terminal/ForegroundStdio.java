package dev.claudecage.terminal;

import dev.claudecage.DaemonThreads;
import dev.claudecage.host.Host;
import dev.claudecage.process.Stdio;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.ProcessBuilder.Redirect;
import java.util.ArrayList;
import java.util.List;

/**
 * The stdio of a cage that runs in this launcher's foreground ({@code run}, {@code shell}). Where
 * this process has a terminal, the cage does not get it: what the cage writes comes through a pipe
 * and a {@link TerminalFilter}, and what it reads, when it has no terminal of its own, through a
 * pipe. So the cage never holds a descriptor of the user's terminal, with which it could write to
 * it raw, read the keys typed for the shell after it, or change its settings.
 *
 * <p>When the cage has a terminal, the runtime (runc, crun) holds the pseudo-terminal's master and
 * copies it to its own stdout: that copy is what comes through the filter. The runtime keeps the
 * user's terminal on its stdin, to put it in raw mode, copy keys and follow the window's size; the
 * cage sees only the pseudo-terminal. A descriptor that is not a terminal (a pipe, a file) goes to
 * the cage as it is: it carries the program's data, byte for byte.
 */
public final class ForegroundStdio {

    /** How long the rest of the cage's output may take to arrive after the runtime ended. */
    private static final long DRAIN_MILLIS = 2000;

    private final boolean pipeInput;
    private final TerminalFilter output;
    private final TerminalFilter error;
    private final List<Thread> relays = new ArrayList<>();

    private ForegroundStdio(boolean pipeInput, boolean filterOutput, boolean filterError) {
        this.pipeInput = pipeInput;
        this.output = filterOutput ? new TerminalFilter(new FileOutputStream(FileDescriptor.out)) : null;
        this.error = filterError ? new TerminalFilter(new FileOutputStream(FileDescriptor.err)) : null;
    }

    /**
     * For this process's stdin, stdout and stderr.
     *
     * @param cageTerminal whether the cage gets a terminal of its own (then the runtime reads this one)
     * @param raw          the user's {@code --raw-terminal}: the cage gets this process's stdio as it is
     */
    public static ForegroundStdio forThisProcess(boolean cageTerminal, boolean raw) {
        if (raw) {
            return new ForegroundStdio(false, false, false);
        }
        return new ForegroundStdio(!cageTerminal && Host.isTerminal(0), Host.isTerminal(1), Host.isTerminal(2));
    }

    /** Where the runtime's stdin, stdout and stderr go. */
    public Stdio stdio() {
        return new Stdio(pipeInput ? Redirect.PIPE : Redirect.INHERIT, output != null ? Redirect.PIPE : Redirect.INHERIT,
                error != null ? Redirect.PIPE : Redirect.INHERIT);
    }

    /** Starts copying between the runtime, just started on {@link #stdio()}, and this process's terminal. */
    public void relay(Process runtime) {
        if (output != null) {
            start("cage-stdout", () -> copy(runtime.getInputStream(), output));
        }
        if (error != null) {
            start("cage-stderr", () -> copy(runtime.getErrorStream(), error));
        }
        if (pipeInput) {
            // Not waited for: it reads this terminal until end of file, which may never come.
            DaemonThreads.start("cage-stdin", () -> {
                try (OutputStream toCage = runtime.getOutputStream()) {
                    copy(new FileInputStream(FileDescriptor.in), toCage);
                } catch (IOException e) {
                    // The cage has gone.
                }
            });
        }
    }

    /**
     * After the runtime ended: waits a little for the rest of the cage's output, puts back the
     * terminal modes the cage left set, and says on {@code err} what was dropped. A process the
     * cage left behind that still holds the pipe is not waited for.
     */
    public void finish(PrintStream err) throws InterruptedException {
        long deadline = System.currentTimeMillis() + DRAIN_MILLIS;
        for (Thread relay : relays) {
            relay.join(Math.max(1, deadline - System.currentTimeMillis()));
        }
        DroppedControls dropped = DroppedControls.none();
        for (TerminalFilter filter : new TerminalFilter[] {output, error}) {
            if (filter != null) {
                try {
                    filter.restore();
                } catch (IOException e) {
                    // The terminal has gone.
                }
                dropped = dropped.plus(filter.dropped());
            }
        }
        dropped.message().ifPresent(message -> {
            err.println(message);
            err.flush();
        });
    }

    private void start(String name, Runnable copy) {
        relays.add(DaemonThreads.start(name, copy));
    }

    private static void copy(InputStream from, OutputStream to) {
        byte[] buffer = new byte[32 * 1024];
        try {
            int read;
            while ((read = from.read(buffer)) >= 0) {
                to.write(buffer, 0, read);
                to.flush();
            }
        } catch (IOException e) {
            // The terminal or the runtime went away; what was read is shown.
        }
    }
}
