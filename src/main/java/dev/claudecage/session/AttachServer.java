package dev.claudecage.session;

import dev.claudecage.DaemonThreads;

import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The supervisor's Unix socket (0600, in a 0700 folder: root only). Attach clients get the recent
 * output, then everything the cage writes, and send keystrokes and window sizes; stop requests
 * wait on it for the cage's end. Each client has its own writer with a bounded queue: a client
 * that stops reading is dropped, and never slows the cage or the log.
 */
final class AttachServer implements AutoCloseable {

    /** What the server asks of the supervisor. */
    interface Controller {
        void input(byte[] data);

        void resize(int rows, int columns);

        void stop(Duration grace);
    }

    private static final long CLIENT_QUEUE_BYTES = 4L * 1024 * 1024;

    private final Path socket;
    private final OutputRing ring;
    private final Controller controller;
    private final PrintStream log;
    private final List<Client> clients = new CopyOnWriteArrayList<>();
    private ServerSocketChannel server;
    private volatile byte[] exitPayload;

    AttachServer(Path socket, OutputRing ring, Controller controller, PrintStream log) {
        this.socket = socket;
        this.ring = ring;
        this.controller = controller;
        this.log = log;
    }

    void start() throws IOException {
        Files.deleteIfExists(socket);
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
        DaemonThreads.start("attach-accept", this::acceptLoop);
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            SocketChannel channel;
            try {
                channel = server.accept();
            } catch (IOException e) {
                return;
            }
            DaemonThreads.start("attach-client", () -> serve(channel));
        }
    }

    private void serve(SocketChannel channel) {
        Frames frames = new Frames(channel);
        Client client = null;
        try (channel) {
            Frames.Frame hello = frames.read();
            if (hello == null) {
                return;
            }
            client = new Client(frames);
            clients.add(client);
            byte[] ended = exitPayload;
            if (ended != null) {
                client.send(Frames.EXIT, ended);
                client.finish();
                return;
            }
            switch (hello.type()) {
                case Frames.HELLO_ATTACH -> {
                    client.attached = true;
                    client.send(Frames.DATA, ring.snapshot());
                    if (hello.payload().length >= 4) {
                        controller.resize(hello.shortAt(0), hello.shortAt(2));
                    }
                    readInput(frames);
                }
                case Frames.HELLO_STOP -> {
                    int seconds = hello.payload().length >= 4 ? hello.intAt(0) : 10;
                    client.send(Frames.STOPPING, new byte[0]);
                    controller.stop(Duration.ofSeconds(Math.max(0, seconds)));
                    // The client waits for the EXIT frame; hold the connection until then.
                    while (frames.read() != null) {
                        // Nothing more is expected from a stop client.
                    }
                }
                default -> client.send(Frames.ERROR, ("unknown request '" + (char) hello.type() + "'").getBytes());
            }
        } catch (IOException e) {
            // The client went away.
        } finally {
            if (client != null) {
                clients.remove(client);
                client.finish();
            }
        }
    }

    private void readInput(Frames frames) throws IOException {
        Frames.Frame frame;
        while ((frame = frames.read()) != null) {
            switch (frame.type()) {
                case Frames.DATA -> controller.input(frame.payload());
                case Frames.RESIZE -> {
                    if (frame.payload().length >= 4) {
                        controller.resize(frame.shortAt(0), frame.shortAt(2));
                    }
                }
                default -> log.println("supervisor: ignoring frame '" + (char) frame.type() + "' from a client");
            }
        }
    }

    /** Sends the cage's output to every attached client. */
    void broadcast(byte[] data) {
        for (Client client : clients) {
            if (client.attached) {
                client.send(Frames.DATA, data);
            }
        }
    }

    int attachedClients() {
        return (int) clients.stream().filter(client -> client.attached).count();
    }

    /** The cage has ended: every client, attached or waiting for a stop, learns how; then they are let go. */
    void finish(int exitCode, String state) {
        exitPayload = Frames.exit(exitCode, state);
        for (Client client : clients) {
            client.send(Frames.EXIT, exitPayload);
            client.finish();
        }
    }

    @Override
    public void close() {
        try {
            if (server != null) {
                server.close();
            }
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            log.println("supervisor: cannot remove " + socket + ": " + e.getMessage());
        }
        for (Client client : clients) {
            client.awaitFlushed(Duration.ofSeconds(2));
            client.close();
        }
    }

    /** One connection and its writer thread. */
    private final class Client {
        private static final byte[] END = new byte[0];

        private final Frames frames;
        private final LinkedBlockingQueue<byte[]> queue = new LinkedBlockingQueue<>();
        private final AtomicLong queued = new AtomicLong();
        private final Thread writer;
        private volatile boolean attached;
        private volatile boolean dropped;

        Client(Frames frames) {
            this.frames = frames;
            this.writer = DaemonThreads.start("attach-writer", this::writeLoop);
        }

        void send(byte type, byte[] payload) {
            if (dropped) {
                return;
            }
            if (queued.addAndGet(payload.length) > CLIENT_QUEUE_BYTES) {
                log.println("supervisor: dropping an attach client that stopped reading");
                dropped = true;
                close();
                return;
            }
            byte[] frame = new byte[payload.length + 1];
            frame[0] = type;
            System.arraycopy(payload, 0, frame, 1, payload.length);
            queue.add(frame);
        }

        /** No more frames after those queued. */
        void finish() {
            queue.add(END);
        }

        private void writeLoop() {
            try {
                while (true) {
                    byte[] frame = queue.take();
                    if (frame == END) {
                        frames.channel().shutdownOutput();
                        return;
                    }
                    queued.addAndGet(-(frame.length - 1));
                    frames.write(frame[0], java.util.Arrays.copyOfRange(frame, 1, frame.length));
                }
            } catch (IOException | InterruptedException e) {
                dropped = true;
            }
        }

        void awaitFlushed(Duration timeout) {
            try {
                writer.join(timeout.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        void close() {
            try {
                frames.channel().close();
            } catch (IOException e) {
                // Already gone.
            }
        }
    }

}
