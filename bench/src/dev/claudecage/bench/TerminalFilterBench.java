package dev.claudecage.bench;

import dev.claudecage.terminal.TerminalFilter;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The terminal filter that attach, logs, run and shell put between the cage's output and the
 * user's terminal: how many MiB/s of a full-screen program's output (a colour and a cursor move
 * every few words, box drawing, UTF-8) and of plain text it passes, in the 32 KiB writes the
 * relays make. A terminal draws far less than either.
 */
final class TerminalFilterBench {

    private static final int STREAM_BYTES = 64 << 20;
    private static final int WRITE = 32 * 1024;
    private static final int RUNS = 3;

    private TerminalFilterBench() {
    }

    /** Runs in a JVM with the launcher's flags; writes its results as JSON to the file named by the first argument. */
    public static void main(String[] args) throws IOException {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("write_bytes", WRITE);
        result.put("full_screen_mib_per_s", measure("a full-screen program's output", fullScreen()));
        result.put("plain_text_mib_per_s", measure("plain text", "the quick brown fox jumps over the lazy dog 0123456789\r\n"
                .repeat(20_000).getBytes(StandardCharsets.US_ASCII)));
        Files.writeString(Path.of(args[0]), dev.claudecage.json.Json.write(result));
    }

    private static byte[] fullScreen() {
        StringBuilder screen = new StringBuilder();
        for (int line = 0; screen.length() < 1 << 20; line++) {
            screen.append("\u001b[").append(line % 50 + 1).append(";1H\u001b[38;5;").append(line % 256)
                    .append("m\u2502 line ").append(line).append(" \u001b[1mof\u001b[22m a full-screen program, ")
                    .append("with \u00fcn\u00efc\u00f6d\u00e9 \u2713 and box drawing \u2500\u2500\u2500\u001b[0m\u001b[K\r\n");
        }
        return screen.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static double measure(String what, byte[] sample) throws IOException {
        run(sample, STREAM_BYTES / 4);
        List<Double> rates = new ArrayList<>();
        for (int i = 0; i < RUNS; i++) {
            long started = System.nanoTime();
            run(sample, STREAM_BYTES);
            rates.add(STREAM_BYTES / 1048576.0 / ((System.nanoTime() - started) / 1e9));
        }
        double median = Report.median(rates);
        System.out.printf(Locale.ROOT, "  %s through the filter, %d MiB in %d KiB writes, median of %d: %.0f MiB/s%n",
                what, STREAM_BYTES >> 20, WRITE >> 10, RUNS, median);
        return Report.round(median);
    }

    private static void run(byte[] sample, int bytes) throws IOException {
        TerminalFilter filter = new TerminalFilter(OutputStream.nullOutputStream());
        for (int written = 0; written < bytes; ) {
            for (int offset = 0; offset < sample.length && written < bytes; offset += WRITE) {
                int length = Math.min(WRITE, sample.length - offset);
                filter.write(sample, offset, length);
                written += length;
            }
        }
    }
}
