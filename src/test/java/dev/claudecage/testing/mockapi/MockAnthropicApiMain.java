package dev.claudecage.testing.mockapi;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/**
 * The mock API as its own process, for a test host inside a network namespace:
 * <pre>ip netns exec NS java -cp TEST_CLASSPATH dev.claudecage.testing.mockapi.MockAnthropicApiMain \
 *     --bind ADDR --port N --script FILE --record FILE [--expect-key KEY]</pre>
 * It prints {@code listening on http://ADDR:PORT} once it accepts connections (port 0 picks one), appends
 * each request as a JSON line to the record file, and runs until it is signalled (SIGTERM or SIGINT).
 * Exit code 2 for bad arguments, 1 when it cannot start.
 */
public final class MockAnthropicApiMain {

    static final String USAGE = "usage: MockAnthropicApiMain --bind ADDR --port N --script FILE --record FILE [--expect-key KEY]";
    private static final Set<String> OPTIONS = Set.of("--bind", "--port", "--script", "--record", "--expect-key");
    private static final List<String> REQUIRED = List.of("--bind", "--port", "--script", "--record");

    private MockAnthropicApiMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        MockAnthropicApi api;
        try {
            api = start(args, System.out);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        } catch (IOException | RuntimeException e) {
            System.err.println("mock API: cannot start: " + e);
            System.exit(1);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            api.close();
            stopped.countDown();
        }, "mock-anthropic-shutdown"));
        stopped.await();
    }

    /** Parses the arguments, starts the API and announces its address on {@code out}. */
    static MockAnthropicApi start(String[] args, PrintStream out) throws IOException {
        Map<String, String> options = parse(args);
        int port;
        try {
            port = Integer.parseInt(options.get("--port"));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--port: not a number: " + options.get("--port"), e);
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--port: out of range: " + port);
        }
        // An IP literal, never a name: the mock must not look anything up.
        String address = options.get("--bind");
        if (!address.matches("[0-9.]+|[0-9A-Fa-f:]+")) {
            throw new IllegalArgumentException("--bind: not an IP address: " + address);
        }
        MockAnthropicApi.Builder builder = MockAnthropicApi.builder()
                .bind(new InetSocketAddress(InetAddress.getByName(address), port))
                .script(Script.load(Path.of(options.get("--script"))))
                .recordTo(Path.of(options.get("--record")));
        if (options.containsKey("--expect-key")) {
            builder.expectKey(options.get("--expect-key"));
        }
        MockAnthropicApi api = builder.start();
        out.println("listening on " + api.baseUrl());
        out.flush();
        return api;
    }

    static Map<String, String> parse(String[] args) {
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i += 2) {
            if (!OPTIONS.contains(args[i])) {
                throw new IllegalArgumentException("unknown option: " + args[i]);
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(args[i] + " needs a value");
            }
            if (options.put(args[i], args[i + 1]) != null) {
                throw new IllegalArgumentException(args[i] + " given twice");
            }
        }
        for (String required : REQUIRED) {
            if (!options.containsKey(required)) {
                throw new IllegalArgumentException("missing " + required);
            }
        }
        return options;
    }
}
