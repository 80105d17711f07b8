package dev.claudecage.net.gateway;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BodyPumpTest {

    /** Records signals; asks for one piece at a time, like the JDK client. */
    private static final class Recorder implements Flow.Subscriber<ByteBuffer> {
        final List<String> signals = new CopyOnWriteArrayList<>();
        final AtomicReference<Flow.Subscription> subscription = new AtomicReference<>();
        final boolean requestMore;

        Recorder(boolean requestMore) {
            this.requestMore = requestMore;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription.set(s);
            s.request(1);
        }

        @Override
        public void onNext(ByteBuffer item) {
            signals.add(StandardCharsets.UTF_8.decode(item).toString());
            if (requestMore) {
                subscription.get().request(1);
            }
        }

        @Override
        public void onError(Throwable throwable) {
            signals.add("error: " + throwable.getClass().getSimpleName());
        }

        @Override
        public void onComplete() {
            signals.add("complete");
        }
    }

    @Test
    void passesTheBodyOnAsAskedAndCompletes() throws Exception {
        BodyPump pump = new BodyPump(new ByteArrayInputStream("hello".getBytes(StandardCharsets.UTF_8)), 5);
        Recorder recorder = new Recorder(true);
        pump.subscribe(recorder);

        assertTrue(pump.pump(() -> false));

        assertEquals(List.of("hello", "complete"), recorder.signals);
        assertEquals(5, pump.contentLength());
    }

    @Test
    void stopsWithoutDemandWhenTheExchangeEnds() throws Exception {
        BodyPump pump = new BodyPump(new ByteArrayInputStream(new byte[100_000]), -1);
        Recorder recorder = new Recorder(false);
        pump.subscribe(recorder);

        assertFalse(pump.pump(() -> true));

        assertEquals(1, recorder.signals.size(), "one piece for the one request, then nothing: " + recorder.signals);
    }

    @Test
    void stopsWhenCancelled() throws Exception {
        BodyPump pump = new BodyPump(new ByteArrayInputStream(new byte[10]), 10);
        Recorder recorder = new Recorder(false);
        pump.subscribe(recorder);
        recorder.subscription.get().cancel();

        assertFalse(pump.pump(() -> false));
        assertEquals(List.of(), recorder.signals);
    }

    @Test
    void tellsTheClientWhenTheCagesBodyBreaks() {
        InputStream broken = new InputStream() {
            @Override
            public int read() throws IOException {
                throw new IOException("the cage went away");
            }
        };
        BodyPump pump = new BodyPump(broken, -1);
        Recorder recorder = new Recorder(true);
        pump.subscribe(recorder);

        assertThrows(IOException.class, () -> pump.pump(() -> false));
        assertEquals(List.of("error: IOException"), recorder.signals);
    }

    @Test
    void refusesASecondSubscriber() {
        BodyPump pump = new BodyPump(new ByteArrayInputStream(new byte[1]), 1);
        pump.subscribe(new Recorder(true));
        Recorder second = new Recorder(true);

        pump.subscribe(second);

        assertEquals(List.of("error: IllegalStateException"), second.signals);
        assertInstanceOf(Flow.Subscription.class, second.subscription.get());
    }
}
