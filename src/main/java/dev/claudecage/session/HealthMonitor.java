package dev.claudecage.session;

import dev.claudecage.CageException;
import dev.claudecage.DaemonThreads;
import dev.claudecage.host.Directories;
import dev.claudecage.image.store.ImageConfig;
import dev.claudecage.json.Json;
import dev.claudecage.process.CommandResult;
import dev.claudecage.process.ProcessRunner;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * An image's HEALTHCHECK, run by a session's supervisor in the running cage as Docker runs it:
 * the first check one interval after the start (the start interval while in the start period),
 * each with its timeout; {@code retries} failures in a row make the session unhealthy, failures
 * in the start period do not count, and one success makes it healthy. The check runs through the
 * runtime's exec, as the cage's user and with the cage's walls (its namespaces, cgroup, seccomp,
 * capabilities and no_new_privs); its output, the cage's bytes, is not kept. The state is a small
 * JSON file beside the session's record, which {@code status} and {@code list} read.
 */
final class HealthMonitor implements AutoCloseable {

    static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(30);
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    static final Duration DEFAULT_START_INTERVAL = Duration.ofSeconds(5);
    static final int DEFAULT_RETRIES = 3;

    /** What {@code health.json} holds. {@code status}: starting, healthy or unhealthy. */
    record Health(String status, int failingStreak, String lastCheckAt, Integer lastExitCode) {
        static final Health STARTING = new Health("starting", 0, null, null);

        /** The next state after a check that exited with {@code exitCode} (null: it timed out or could not run). */
        Health after(Integer exitCode, boolean inStartPeriod, int retries, Instant now) {
            if (exitCode != null && exitCode == 0) {
                return new Health("healthy", 0, now.toString(), 0);
            }
            int streak = inStartPeriod ? failingStreak : failingStreak + 1;
            String next = streak >= retries ? "unhealthy" : status;
            return new Health(next, streak, now.toString(), exitCode);
        }
    }

    /** The check's timing, Docker's defaults filled in. */
    record Schedule(Duration interval, Duration timeout, Duration startPeriod, Duration startInterval, int retries) {
        static Schedule of(ImageConfig.Healthcheck check) {
            return new Schedule(duration(check.interval(), DEFAULT_INTERVAL), duration(check.timeout(), DEFAULT_TIMEOUT),
                    duration(check.startPeriod(), Duration.ZERO), duration(check.startInterval(), DEFAULT_START_INTERVAL),
                    check.retries() == null || check.retries() <= 0 ? DEFAULT_RETRIES : check.retries());
        }

        private static Duration duration(Long nanos, Duration otherwise) {
            return nanos == null || nanos <= 0 ? otherwise : Duration.ofNanos(nanos);
        }
    }

    private final List<String> command;
    private final Schedule schedule;
    private final Function<List<String>, List<String>> exec;
    private final Path file;
    private final ProcessRunner runner;
    private final Consumer<String> log;
    private final Thread thread;
    private volatile boolean closed;

    private HealthMonitor(List<String> command, Schedule schedule, Function<List<String>, List<String>> exec, Path file,
                          ProcessRunner runner, Consumer<String> log) {
        this.command = command;
        this.schedule = schedule;
        this.exec = exec;
        this.file = file;
        this.runner = runner;
        this.log = log;
        this.thread = DaemonThreads.unstarted("health-check", this::loop);
    }

    /**
     * The check's command line in the cage: {@code ["CMD", args...]} as is, {@code ["CMD-SHELL", script]}
     * through the image's SHELL (by default /bin/sh -c); empty for none or {@code NONE}.
     */
    static List<String> command(ImageConfig.Healthcheck check, List<String> shell) {
        if (check == null || check.none() || check.test().size() < 2) {
            return List.of();
        }
        List<String> test = check.test();
        List<String> command = new ArrayList<>();
        switch (test.get(0)) {
            case "CMD" -> command.addAll(test.subList(1, test.size()));
            case "CMD-SHELL" -> {
                command.addAll(shell == null || shell.isEmpty() ? List.of("/bin/sh", "-c") : shell);
                command.add(String.join(" ", test.subList(1, test.size())));
            }
            default -> {
                return List.of();
            }
        }
        return command;
    }

    /**
     * Starts checking when the image has a check; {@code exec} makes the runtime's command line
     * that runs a command in the cage.
     */
    static Optional<HealthMonitor> start(ImageConfig.Settings image, Function<List<String>, List<String>> exec, Path file,
                                         ProcessRunner runner, Consumer<String> log) {
        List<String> command = command(image.healthcheck(), image.shell());
        if (command.isEmpty()) {
            return Optional.empty();
        }
        HealthMonitor monitor = new HealthMonitor(command, Schedule.of(image.healthcheck()), exec, file, runner, log);
        monitor.write(Health.STARTING);
        monitor.thread.start();
        return Optional.of(monitor);
    }

    /** The state a supervisor recorded for a session, if it runs a check. */
    static Optional<Health> read(Path file) {
        try {
            return Files.isRegularFile(file) ? Optional.of(Json.readPlainRecord(Files.readString(file), Health.class)) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private void loop() {
        Instant started = Instant.now();
        Health health = Health.STARTING;
        while (!closed) {
            boolean inStartPeriod = Duration.between(started, Instant.now()).compareTo(schedule.startPeriod()) < 0;
            if (!sleep(inStartPeriod && health.status().equals("starting") ? schedule.startInterval() : schedule.interval())) {
                return;
            }
            Integer exitCode = check();
            if (closed) {
                return;
            }
            inStartPeriod = Duration.between(started, Instant.now()).compareTo(schedule.startPeriod()) < 0;
            Health next = health.after(exitCode, inStartPeriod, schedule.retries(), Instant.now());
            if (!next.status().equals(health.status())) {
                log.accept("health: " + next.status() + (exitCode == null ? " (the check timed out or did not run)"
                        : " (the check exited with " + exitCode + ")"));
            }
            health = next;
            write(health);
        }
    }

    /** One check: its exit code, or null when it ran past its timeout or could not be started. */
    private Integer check() {
        try {
            CommandResult result = runner.runAllowingFailure(exec.apply(command), schedule.timeout());
            return result.exitCode();
        } catch (CageException e) {
            return null;
        }
    }

    private boolean sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
            return true;
        } catch (InterruptedException e) {
            return false;
        }
    }

    private void write(Health health) {
        try {
            Directories.writePrivateFile(file, Json.writePlainRecord(health));
        } catch (IOException e) {
            log.accept("cannot write " + file + ": " + e.getMessage());
        }
    }

    /** Stops checking and removes the state: a session that does not run has no health. */
    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(Duration.ofSeconds(5).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            log.accept("cannot remove " + file + ": " + e.getMessage());
        }
    }
}
