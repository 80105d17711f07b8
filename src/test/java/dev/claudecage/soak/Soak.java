package dev.claudecage.soak;

import dev.claudecage.host.Netns;
import dev.claudecage.it.CageHarness;
import dev.claudecage.json.Json;
import dev.claudecage.testing.DataHost;
import dev.claudecage.testing.TestNetwork;
import dev.claudecage.testing.mockapi.MockAnthropicApi;
import dev.claudecage.testing.mockapi.Script;
import dev.claudecage.testing.mockapi.Turn;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.ToLongFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code make soak}: a benchmark, not a test. Many filtered sessions at once (20 by default), each streaming
 * server-sent events from the mock API through its API gateway and moving data through a CONNECT tunnel to
 * an echo host, over and over, for a bounded time (5 minutes by default), all on the test's own small
 * internet (namespaces and veths it makes, addresses it chooses). It records every supervisor's resident
 * memory, threads and open files at the start (once all sessions run and have warmed up), the middle and
 * the end, and the requests each session counted as failed, and writes {@code bench/results/soak-DATE-HOST.json}.
 * The targets: no failed request, and no supervisor growing by more than 10% between the middle and the end.
 * Knobs: SOAK_SESSIONS, SOAK_SECONDS. Needs root and the minbase rootfs, and the machine to itself: run it
 * under the integration tests' lock.
 */
public final class Soak {

    private static final String REAL_KEY = "sk-ant-api03-soak-" + Long.toHexString(System.nanoTime());
    private static final String PREFIX = "soak-";
    private static final int API_PORT = 8443;
    private static final int DATA_PORT = 9000;
    private static final Duration WARM_UP = Duration.ofSeconds(30);
    /** The end sample is taken this long before the sessions' work stops. */
    private static final Duration END_MARGIN = Duration.ofSeconds(10);
    private static final Duration EVENT_DELAY = Duration.ofMillis(40);
    private static final int STARTS_AT_ONCE = 4;
    private static final double GROWTH_TARGET = 0.10;
    /**
     * Readings per sample, a second apart, of which the median counts: the open files and threads of one
     * moment include the connections in flight just then.
     */
    private static final int READINGS = 5;
    private static final Pattern SUMMARY = Pattern.compile("^SOAK (.*)$", Pattern.MULTILINE);
    private static final Pattern FAILURE = Pattern.compile("^FAILURE (.*)$", Pattern.MULTILINE);

    /** One supervisor at one moment, or the median of a few moments. */
    record Usage(long pid, long rssKib, long threads, long openFiles) {

        static Usage median(List<Usage> readings) {
            return new Usage(readings.get(0).pid(), median(readings, Usage::rssKib), median(readings, Usage::threads),
                    median(readings, Usage::openFiles));
        }

        private static long median(List<Usage> readings, ToLongFunction<Usage> value) {
            long[] values = readings.stream().mapToLong(value).sorted().toArray();
            return values[values.length / 2];
        }

        Map<String, Object> asJson() {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("pid", pid);
            json.put("rss_kib", rssKib);
            json.put("threads", threads);
            json.put("open_files", openFiles);
            return json;
        }
    }

    private Soak() {
    }

    public static void main(String[] args) throws Exception {
        int sessions = Integer.parseInt(System.getenv().getOrDefault("SOAK_SESSIONS", "20"));
        Duration length = Duration.ofSeconds(Long.parseLong(System.getenv().getOrDefault("SOAK_SECONDS", "300")));
        if (!"root".equals(System.getProperty("user.name")) || !Files.isRegularFile(CageHarness.ROOTFS.resolve(".claude-cage-rootfs"))) {
            System.err.println("soak: needs root and the minbase rootfs at " + CageHarness.ROOTFS + " (sudo make rootfs)");
            System.exit(2);
        }
        Path results = Path.of("bench/results");
        Files.createDirectories(results);
        Path file = results.resolve("soak-" + LocalDate.now() + "-" + hostName() + ".json");
        Map<String, Object> report = run(sessions, length);
        Files.writeString(file, Json.write(report) + "\n");
        System.out.println("soak: written to " + file);
        System.out.println(Json.write(report.get("summary")));
    }

    private static Map<String, Object> run(int sessions, Duration length) throws Exception {
        List<String> names = new ArrayList<>();
        for (int i = 1; i <= sessions; i++) {
            names.add(String.format(Locale.ROOT, "%s%02d", PREFIX, i));
        }
        names.forEach(Soak::destroyQuietly);
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("machine", machine());
        report.put("sessions", sessions);
        report.put("seconds", length.toSeconds());
        String probe;
        try (InputStream in = Soak.class.getResourceAsStream("soak-probe.pl")) {
            probe = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        try (TestNetwork internet = new TestNetwork("soak")) {
            TestNetwork.TestHost apiHost = internet.addHost("api");
            TestNetwork.TestHost dataHost = internet.addHost("data");
            String text = "The soak streams this text in small deltas, one event at a time, as a long answer would. "
                    .repeat(6);
            try (MockAnthropicApi api = Netns.call(apiHost.namespace(), () -> MockAnthropicApi.builder()
                    .bind(new InetSocketAddress(apiHost.address4(), API_PORT)).eventDelay(EVENT_DELAY)
                    .script(new Script(List.of(), text)).start());
                 DataHost echo = Netns.call(dataHost.namespace(), () -> DataHost.echo(dataHost.address4(), DATA_PORT))) {
                Instant begin = Instant.now();
                Instant stop = begin.plus(length);
                List<String> common = List.of("--rootfs", CageHarness.ROOTFS.toString(), "--network", "filtered",
                        "--api-upstream", "http://" + apiHost.address4() + ":" + API_PORT,
                        "--resolve", "data.test=" + dataHost.address4(), "--allowed-host", "data.test:" + DATA_PORT,
                        "--env", "PROBE=" + probe, "--env", "SOAK_TARGET=data.test:" + DATA_PORT,
                        "--env", "SOAK_UNTIL=" + stop.getEpochSecond());
                try {
                    Map<String, String> started = startAll(names, common, sessions);
                    report.put("start_failures", started);
                    Instant firstSample = Instant.now().plus(WARM_UP);
                    Instant lastSample = stop.minus(END_MARGIN);
                    Instant middleSample = firstSample.plus(Duration.between(firstSample, lastSample).dividedBy(2));
                    Map<String, Usage> atStart = sampleAt(firstSample, names);
                    Map<String, Object> samples = new LinkedHashMap<>();
                    samples.put("start", sample(atStart, begin));
                    Map<String, Usage> atMiddle = sampleAt(middleSample, names);
                    samples.put("middle", sample(atMiddle, begin));
                    Map<String, Usage> atEnd = sampleAt(lastSample, names);
                    samples.put("end", sample(atEnd, begin));
                    report.put("samples", samples);
                    report.put("growth_middle_to_end", growth(atMiddle, atEnd));
                    sleepUntil(stop.plusSeconds(5));
                    report.put("requests", requests(names));
                    report.put("mock_api_requests", api.requests().size());
                    report.put("echo_bytes", echo.received());
                } finally {
                    names.forEach(Soak::destroyQuietly);
                }
            }
        }
        report.put("summary", summary(report));
        return report;
    }

    /** Starts every session, a few at a time; the ones that would not start, with what the launcher said. */
    private static Map<String, String> startAll(List<String> names, List<String> common, int sessions) throws Exception {
        Map<String, String> failures = new LinkedHashMap<>();
        ExecutorService starters = Executors.newFixedThreadPool(STARTS_AT_ONCE);
        try {
            Map<String, Future<CageHarness.Result>> starts = new LinkedHashMap<>();
            for (String name : names) {
                List<String> args = new ArrayList<>(List.of("start", "--detach", "--name", name));
                args.addAll(common);
                args.addAll(List.of("--", "bash", "-c", "exec perl -e \"$PROBE\""));
                starts.put(name, starters.submit(() -> CageHarness.launch(args, "", Map.of("ANTHROPIC_API_KEY", REAL_KEY,
                        "CLAUDE_CAGE_MAX_SESSIONS", Integer.toString(sessions + 5)), Duration.ofMinutes(3))));
            }
            for (Map.Entry<String, Future<CageHarness.Result>> start : starts.entrySet()) {
                CageHarness.Result result = start.getValue().get();
                if (result.exitCode() != 0) {
                    failures.put(start.getKey(), result.stderr().strip());
                }
            }
        } finally {
            starters.shutdownNow();
        }
        System.out.println("soak: " + (names.size() - failures.size()) + " of " + names.size() + " sessions run"
                + (failures.isEmpty() ? "" : "; failed to start: " + failures));
        return failures;
    }

    /** Every supervisor's usage around {@code when}: the median of {@link #READINGS} readings, a second apart. */
    private static Map<String, Usage> sampleAt(Instant when, List<String> names) throws Exception {
        sleepUntil(when.minusSeconds(READINGS / 2));
        Map<String, Long> pids = new LinkedHashMap<>();
        for (String name : names) {
            supervisorOf(name).ifPresent(pid -> pids.put(name, pid));
        }
        Map<String, List<Usage>> readings = new LinkedHashMap<>();
        for (int i = 0; i < READINGS; i++) {
            pids.forEach((name, pid) -> readings.computeIfAbsent(name, any -> new ArrayList<>()).add(usage(pid)));
            Thread.sleep(1000);
        }
        Map<String, Usage> supervisors = new LinkedHashMap<>();
        readings.forEach((name, taken) -> supervisors.put(name, Usage.median(taken)));
        return supervisors;
    }

    private static Map<String, Object> sample(Map<String, Usage> supervisors, Instant begin) throws IOException {
        Map<String, Object> sample = new LinkedHashMap<>();
        sample.put("at_seconds", Duration.between(begin, Instant.now()).toSeconds());
        sample.put("load_average", Files.readString(Path.of("/proc/loadavg")).strip());
        Map<String, Object> json = new LinkedHashMap<>();
        supervisors.forEach((name, usage) -> json.put(name, usage.asJson()));
        sample.put("supervisors", json);
        System.out.println("soak: sample at " + sample.get("at_seconds") + " s, load " + sample.get("load_average") + ", "
                + supervisors.size() + " supervisors");
        return sample;
    }

    /** The supervisor of a session: the JVM whose command line ends with SupervisorMain and the session's name. */
    private static Optional<Long> supervisorOf(String name) throws IOException {
        try (Stream<Path> processes = Files.list(Path.of("/proc"))) {
            for (Path process : processes.filter(path -> path.getFileName().toString().matches("\\d+")).toList()) {
                String commandLine;
                try {
                    commandLine = new String(Files.readAllBytes(process.resolve("cmdline")), StandardCharsets.UTF_8);
                } catch (IOException gone) {
                    continue;
                }
                if (commandLine.endsWith("dev.claudecage.session.SupervisorMain\0" + name + "\0")) {
                    return Optional.of(Long.parseLong(process.getFileName().toString()));
                }
            }
        }
        return Optional.empty();
    }

    private static Usage usage(long pid) {
        Path process = Path.of("/proc", Long.toString(pid));
        try {
            long rss = 0;
            long threads = 0;
            for (String line : Files.readAllLines(process.resolve("status"))) {
                if (line.startsWith("VmRSS:")) {
                    rss = Long.parseLong(line.replaceAll("\\D+", ""));
                } else if (line.startsWith("Threads:")) {
                    threads = Long.parseLong(line.replaceAll("\\D+", ""));
                }
            }
            long files;
            try (Stream<Path> fds = Files.list(process.resolve("fd"))) {
                files = fds.count();
            }
            return new Usage(pid, rss, threads, files);
        } catch (IOException e) {
            return new Usage(pid, -1, -1, -1);
        }
    }

    /** What each session counted, from the last lines its probe printed (in the session's output). */
    private static Map<String, Object> requests(List<String> names) {
        Map<String, Object> perSession = new LinkedHashMap<>();
        for (String name : names) {
            CageHarness.Result logs = CageHarness.launch(List.of("logs", name), "", Map.of(), Duration.ofMinutes(1));
            Matcher summary = SUMMARY.matcher(logs.stdout());
            Map<String, Object> counts = new LinkedHashMap<>();
            String last = null;
            while (summary.find()) {
                last = summary.group(1);
            }
            if (last == null) {
                counts.put("problem", "no SOAK line in the session's output");
            } else {
                for (String pair : last.strip().split(" ")) {
                    counts.put(pair.substring(0, pair.indexOf('=')), Long.parseLong(pair.substring(pair.indexOf('=') + 1)));
                }
            }
            List<String> failures = new ArrayList<>();
            Matcher failure = FAILURE.matcher(logs.stdout());
            while (failure.find()) {
                failures.add(failure.group(1));
            }
            if (!failures.isEmpty()) {
                counts.put("failures", failures);
            }
            perSession.put(name, counts);
        }
        return perSession;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> summary(Map<String, Object> report) {
        Map<String, Object> summary = new LinkedHashMap<>();
        Map<String, Object> requests = (Map<String, Object>) report.getOrDefault("requests", Map.of());
        long ok = 0;
        long failed = 0;
        int withoutCounts = 0;
        for (Object value : requests.values()) {
            Map<String, Object> counts = (Map<String, Object>) value;
            if (!counts.containsKey("sse_ok")) {
                withoutCounts++;
                continue;
            }
            ok += (Long) counts.get("sse_ok") + (Long) counts.get("tunnel_ok");
            failed += (Long) counts.get("sse_failed") + (Long) counts.get("tunnel_failed");
        }
        summary.put("requests_ok", ok);
        summary.put("requests_failed", failed);
        summary.put("sessions_without_counts", withoutCounts);
        summary.put("sessions_failed_to_start", ((Map<?, ?>) report.getOrDefault("start_failures", Map.of())).size());
        summary.put("target_no_failed_request", failed == 0 && withoutCounts == 0 ? "met" : "not met");
        Map<String, Object> growth = (Map<String, Object>) report.get("growth_middle_to_end");
        if (growth != null) {
            summary.putAll(growth);
            double largest = growth.values().stream().filter(Double.class::isInstance).mapToDouble(Double.class::cast)
                    .max().orElse(0);
            summary.put("target_growth_at_most_10_percent", largest <= GROWTH_TARGET ? "met" : "not met");
        }
        return summary;
    }

    /** The largest growth of any supervisor between the two samples, per measure (0.05 is 5%). */
    private static Map<String, Object> growth(Map<String, Usage> middle, Map<String, Usage> end) {
        double rss = 0;
        double threads = 0;
        double files = 0;
        int compared = 0;
        for (Map.Entry<String, Usage> atMiddle : middle.entrySet()) {
            Usage atEnd = end.get(atMiddle.getKey());
            if (atEnd == null || atEnd.pid() != atMiddle.getValue().pid()) {
                continue;
            }
            compared++;
            rss = Math.max(rss, growth(atMiddle.getValue().rssKib(), atEnd.rssKib()));
            threads = Math.max(threads, growth(atMiddle.getValue().threads(), atEnd.threads()));
            files = Math.max(files, growth(atMiddle.getValue().openFiles(), atEnd.openFiles()));
        }
        Map<String, Object> growth = new LinkedHashMap<>();
        growth.put("supervisors_compared", compared);
        growth.put("largest_rss_growth", round(rss));
        growth.put("largest_threads_growth", round(threads));
        growth.put("largest_open_files_growth", round(files));
        return growth;
    }

    private static double growth(long before, long after) {
        return before <= 0 ? 0 : (after - before) / (double) before;
    }

    private static double round(double value) {
        return Math.round(value * 1000) / 1000.0;
    }

    private static Map<String, Object> machine() throws IOException {
        Map<String, Object> machine = new LinkedHashMap<>();
        machine.put("nproc", Runtime.getRuntime().availableProcessors());
        machine.put("memory", Files.readAllLines(Path.of("/proc/meminfo")).get(0).replaceAll("\\s+", " "));
        machine.put("kernel", Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip());
        machine.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        machine.put("load_average_at_start", Files.readString(Path.of("/proc/loadavg")).strip());
        machine.put("host", hostName());
        return machine;
    }

    private static String hostName() throws IOException {
        return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
    }

    private static void sleepUntil(Instant when) throws InterruptedException {
        long millis = Duration.between(Instant.now(), when).toMillis();
        if (millis > 0) {
            Thread.sleep(millis);
        }
    }

    private static void destroyQuietly(String name) {
        CageHarness.launch(List.of("destroy", "--timeout", "0", name), "", Map.of(), Duration.ofMinutes(1));
    }
}
