package dev.claudecage.testing;

import dev.claudecage.process.ProcessRunner;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A process factory for {@link ProcessRunner} that runs nothing: it records every command line
 * (and what was written to its stdin) and answers as scripted, by default exit code 0 and no
 * output. Tests of code that drives ip, nft, mount or runc check the exact command lines with it,
 * as jib's CliDockerClientTest does for docker.
 */
public final class FakeProcesses implements ProcessRunner.ProcessFactory {

    /** One command as it was started, with what it has been given on stdin so far. */
    public record Started(List<String> command, ByteArrayOutputStream input) {
        public String stdin() {
            return input.toString(StandardCharsets.UTF_8);
        }
    }

    private record Answer(Predicate<List<String>> matches, int exitCode, String stdout, String stderr) {
    }

    private final List<Started> started = new ArrayList<>();
    private final List<Answer> answers = new ArrayList<>();

    /** A runner that starts its commands here. */
    public ProcessRunner runner() {
        return new ProcessRunner(false, this);
    }

    /** Commands that begin with {@code prefix} exit with {@code exitCode}, printing {@code stdout} and {@code stderr}. */
    public FakeProcesses answer(List<String> prefix, int exitCode, String stdout, String stderr) {
        answers.add(0, new Answer(command -> command.size() >= prefix.size()
                && command.subList(0, prefix.size()).equals(prefix), exitCode, stdout, stderr));
        return this;
    }

    /** Every command started so far, in order. */
    public synchronized List<List<String>> commands() {
        return started.stream().map(Started::command).toList();
    }

    /** Every command started so far, with its stdin. */
    public synchronized List<Started> started() {
        return List.copyOf(started);
    }

    @Override
    public Process start(ProcessBuilder builder) {
        List<String> command = List.copyOf(builder.command());
        Answer answer = answers.stream().filter(each -> each.matches().test(command)).findFirst()
                .orElse(new Answer(any -> true, 0, "", ""));
        ByteArrayOutputStream stdin = new ByteArrayOutputStream();
        synchronized (this) {
            started.add(new Started(command, stdin));
        }
        return new Fake(answer, stdin);
    }

    private static final class Fake extends Process {
        private final Answer answer;
        private final OutputStream stdin;

        Fake(Answer answer, OutputStream stdin) {
            this.answer = answer;
            this.stdin = stdin;
        }

        @Override
        public OutputStream getOutputStream() {
            return stdin;
        }

        @Override
        public InputStream getInputStream() {
            return new ByteArrayInputStream(answer.stdout().getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public InputStream getErrorStream() {
            return new ByteArrayInputStream(answer.stderr().getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public int waitFor() {
            return answer.exitCode();
        }

        @Override
        public boolean waitFor(long timeout, TimeUnit unit) {
            return true;
        }

        @Override
        public int exitValue() {
            return answer.exitCode();
        }

        @Override
        public boolean isAlive() {
            return false;
        }

        @Override
        public long pid() {
            return 1;
        }

        @Override
        public void destroy() {
        }
    }
}
