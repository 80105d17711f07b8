package dev.claudecage.net.gateway;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.Flow;
import java.util.function.BooleanSupplier;

/**
 * A request body that streams: the gateway's handler thread reads the cage's body and hands each
 * piece to the HTTP client as soon as the client asks for one. (The JDK 17 client's own
 * {@code BodyPublishers.ofInputStream} sends nothing, not even the request headers, until the
 * stream ends.) Only {@link #pump} signals the subscriber, so its signals are serialized; the
 * subscriber's demand and cancellation arrive on any thread.
 */
final class BodyPump implements HttpRequest.BodyPublisher {

    private static final int PIECE_BYTES = 16 * 1024;
    private static final long WAIT_MILLIS = 50;

    private final InputStream source;
    private final long length;
    private Flow.Subscriber<? super ByteBuffer> subscriber;
    private long demand;
    private boolean cancelled;

    /** @param length the body's length when the cage declared one, else -1 (the client sends it chunked) */
    BodyPump(InputStream source, long length) {
        this.source = source;
        this.length = length;
    }

    @Override
    public long contentLength() {
        return length;
    }

    @Override
    public void subscribe(Flow.Subscriber<? super ByteBuffer> newSubscriber) {
        boolean first;
        synchronized (this) {
            first = subscriber == null;
            if (first) {
                subscriber = newSubscriber;
            }
        }
        if (!first) {
            // One body, read once: a second subscriber (a retry) cannot have it again.
            newSubscriber.onSubscribe(new Flow.Subscription() {
                @Override
                public void request(long n) {
                }

                @Override
                public void cancel() {
                }
            });
            newSubscriber.onError(new IllegalStateException("the request body can be sent only once"));
            return;
        }
        newSubscriber.onSubscribe(new Flow.Subscription() {
            @Override
            public void request(long n) {
                synchronized (BodyPump.this) {
                    if (n <= 0) {
                        cancelled = true;
                    } else {
                        demand = demand + n < 0 ? Long.MAX_VALUE : demand + n;
                    }
                    BodyPump.this.notifyAll();
                }
            }

            @Override
            public void cancel() {
                synchronized (BodyPump.this) {
                    cancelled = true;
                    BodyPump.this.notifyAll();
                }
            }
        });
    }

    /**
     * Copies the cage's body to the client as it asks, on the calling thread.
     *
     * @param stop checked while waiting: true when the exchange ended without the rest of the body
     *             (the upstream answered early, or failed)
     * @return true when the whole body went; false when the client cancelled or {@code stop} said so
     * @throws IOException when reading the cage's body failed; the client has been told (onError)
     */
    boolean pump(BooleanSupplier stop) throws IOException, InterruptedException {
        byte[] buffer = new byte[PIECE_BYTES];
        while (true) {
            Flow.Subscriber<? super ByteBuffer> target;
            synchronized (this) {
                while ((subscriber == null || demand == 0) && !cancelled && !stop.getAsBoolean()) {
                    wait(WAIT_MILLIS);
                }
                if (cancelled || subscriber == null || demand == 0) {
                    return false;
                }
                target = subscriber;
            }
            int read;
            try {
                read = source.read(buffer);
            } catch (IOException e) {
                target.onError(e);
                throw e;
            }
            if (read < 0) {
                target.onComplete();
                return true;
            }
            if (read == 0) {
                continue;
            }
            synchronized (this) {
                demand--;
            }
            target.onNext(ByteBuffer.wrap(Arrays.copyOf(buffer, read)));
        }
    }
}
