package dev.claudecage.session;

import dev.claudecage.CageException;
import dev.claudecage.DaemonThreads;
import dev.claudecage.host.Host;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code attach}: the user's terminal joined to a session's terminal through the supervisor's
 * socket. Keys go to the cage, the cage's output to the screen, window size changes follow.
 * Ctrl-P Ctrl-Q detaches and leaves the cage running (as in Docker); the attach ends by itself
 * when the cage does. When stdin is not a terminal its end detaches.
 */
public final class AttachClient {

    static final byte CTRL_P = 0x10;
    static final byte CTRL_Q = 0x11;
    private static final long RESIZE_POLL_MILLIS = 250;

    /** How an attach ended. */
    public sealed interface Outcome permits Detached, Ended, Lost {
    }

    /** The user detached; the cage runs on. */
    public record Detached() implements Outcome {
    }

    /** The cage ended while attached. */
    public record Ended(int exitCode, String state) implements Outcome {
    }

    /** The connection dropped without a word: the supervisor died. */
    public record Lost() implements Outcome {
    }

    private final Path socket;
    private final InputStream in;
    private final OutputStream out;
    private final PrintStream err;

    public AttachClient(Path socket, InputStream in, OutputStream out, PrintStream err) {
        this.socket = socket;
        this.in = in;
        this.out = out;
        this.err = err;
    }

    /** This process's terminal size (rows, columns) from stdout, or null when stdout is not a terminal. */
    public static int[] terminalSize() {
        return Host.isTerminal(1) ? LocalTerminal.size(1) : null;
    }

    static SocketChannel connect(Path socket, SessionName name) {
        try {
            SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.connect(UnixDomainSocketAddress.of(socket));
            return channel;
        } catch (IOException e) {
            throw new CageException("cannot reach the supervisor of session " + name + " at " + socket + ": "
                    + e.getMessage(), "'claude-cage status " + name + "' shows whether it runs");
        }
    }

    /** Attaches until the user detaches or the cage ends; restores the terminal on every way out. */
    public Outcome attach(SessionName name) {
        boolean terminal = Host.isTerminal(0);
        boolean screen = Host.isTerminal(1);
        int[] size = screen ? LocalTerminal.size(1) : null;
        SocketChannel channel = connect(socket, name);
        Frames frames = new Frames(channel);
        AtomicBoolean detached = new AtomicBoolean();
        LocalTerminal raw = terminal ? LocalTerminal.raw(0) : null;
        Thread restore = new Thread(() -> {
            if (raw != null) {
                raw.close();
            }
        }, "attach-restore");
        Runtime.getRuntime().addShutdownHook(restore);
        try {
            frames.write(Frames.HELLO_ATTACH, size == null ? new byte[0] : Frames.size(size[0], size[1]));
            DaemonThreads.start("attach-keys", () -> forwardKeys(frames, detached, terminal));
            if (screen) {
                DaemonThreads.start("attach-resize", () -> followSize(frames, size));
            }
            Outcome outcome = receive(frames, detached);
            return outcome;
        } catch (IOException e) {
            return detached.get() ? new Detached() : new Lost();
        } finally {
            try {
                channel.close();
            } catch (IOException e) {
                // Gone already.
            }
            if (raw != null) {
                raw.close();
            }
            try {
                Runtime.getRuntime().removeShutdownHook(restore);
            } catch (IllegalStateException shuttingDown) {
                // The hook restores the terminal.
            }
        }
    }

    private Outcome receive(Frames frames, AtomicBoolean detached) throws IOException {
        while (true) {
            Frames.Frame frame;
            try {
                frame = frames.read();
            } catch (IOException e) {
                if (detached.get()) {
                    return new Detached();
                }
                throw e;
            }
            if (frame == null) {
                return detached.get() ? new Detached() : new Lost();
            }
            switch (frame.type()) {
                case Frames.DATA -> {
                    out.write(frame.payload());
                    out.flush();
                }
                case Frames.EXIT -> {
                    return new Ended(frame.intAt(0), new String(frame.payload(), 4, frame.payload().length - 4,
                            java.nio.charset.StandardCharsets.UTF_8));
                }
                case Frames.ERROR -> throw new CageException("the supervisor refused: " + frame.text());
                default -> {
                    // Frames of later versions.
                }
            }
        }
    }

    /** Copies keys to the cage, watching for Ctrl-P Ctrl-Q. */
    private void forwardKeys(Frames frames, AtomicBoolean detached, boolean terminal) {
        byte[] buffer = new byte[4096];
        boolean pendingCtrlP = false;
        try {
            while (true) {
                int read = in.read(buffer);
                if (read < 0) {
                    if (!terminal) {
                        detach(frames, detached);
                    }
                    return;
                }
                DetachScan scan = DetachScan.scan(Arrays.copyOf(buffer, read), pendingCtrlP);
                pendingCtrlP = scan.pendingCtrlP();
                if (scan.forward().length > 0) {
                    frames.write(Frames.DATA, scan.forward());
                }
                if (scan.detach()) {
                    detach(frames, detached);
                    return;
                }
            }
        } catch (IOException e) {
            // The connection closed: the receiving side reports how.
        }
    }

    private static void detach(Frames frames, AtomicBoolean detached) {
        detached.set(true);
        try {
            frames.channel().close();
        } catch (IOException e) {
            // Closed either way.
        }
    }

    private static void followSize(Frames frames, int[] initial) {
        int[] last = initial;
        while (frames.channel().isOpen()) {
            try {
                Thread.sleep(RESIZE_POLL_MILLIS);
                int[] now = LocalTerminal.size(1);
                if (now != null && (last == null || now[0] != last[0] || now[1] != last[1])) {
                    frames.write(Frames.RESIZE, Frames.size(now[0], now[1]));
                    last = now;
                }
            } catch (IOException | InterruptedException e) {
                return;
            }
        }
    }

    /** The user's message after an attach (the terminal is restored by then), on stderr. */
    public void report(SessionName name, Outcome outcome) {
        String message;
        if (outcome instanceof Ended ended) {
            message = "[session " + name + " " + ended.state() + "]";
        } else if (outcome instanceof Detached) {
            message = "[detached from " + name + "; it keeps running: claude-cage attach " + name + " to come back]";
        } else {
            message = "[lost the connection to session " + name + ": its supervisor has gone; "
                    + "claude-cage status " + name + " tells more]";
        }
        err.print("\n" + message + "\n");
        err.flush();
    }

    /**
     * One chunk of keys: what to forward, whether it completed Ctrl-P Ctrl-Q, and whether it
     * ended on a Ctrl-P that the next chunk decides about.
     */
    record DetachScan(byte[] forward, boolean detach, boolean pendingCtrlP) {

        static DetachScan scan(byte[] keys, boolean pendingCtrlP) {
            java.io.ByteArrayOutputStream forward = new java.io.ByteArrayOutputStream(keys.length + 1);
            boolean pending = pendingCtrlP;
            for (byte key : keys) {
                if (pending) {
                    pending = false;
                    if (key == CTRL_Q) {
                        return new DetachScan(forward.toByteArray(), true, false);
                    }
                    forward.write(CTRL_P);
                    if (key == CTRL_P) {
                        pending = true;
                        continue;
                    }
                    forward.write(key);
                } else if (key == CTRL_P) {
                    pending = true;
                } else {
                    forward.write(key);
                }
            }
            return new DetachScan(forward.toByteArray(), false, pending);
        }
    }
}
