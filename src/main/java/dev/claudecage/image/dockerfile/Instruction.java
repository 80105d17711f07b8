package dev.claudecage.image.dockerfile;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * One parsed Dockerfile instruction. Values are kept as written (quotes, {@code $VARIABLES}):
 * the builder expands them with {@link ShellWords} when it reaches the instruction, because
 * what a variable holds depends on the ARGs and ENVs before it.
 */
public sealed interface Instruction {

    Location location();

    /** The instruction as written, continuation lines joined: for messages and progress. */
    String text();

    /**
     * The keyword in upper case, e.g. RUN. Each record below is named after its keyword (StopSignal for
     * STOPSIGNAL); {@link Copy}, which stands for ADD too, says its own.
     */
    default String keyword() {
        return getClass().getSimpleName().toUpperCase(Locale.ROOT);
    }

    /** A command as RUN, CMD and ENTRYPOINT take it. */
    sealed interface Command {
        /** Shell form: run through the stage's SHELL (by default {@code /bin/sh -c}). */
        record ShellForm(String script) implements Command {
            public ShellForm {
                Objects.requireNonNull(script, "script");
            }
        }

        /** Exec form, a JSON array: run as is, without a shell. */
        record ExecForm(List<String> args) implements Command {
            public ExecForm {
                args = List.copyOf(args);
            }
        }
    }

    /** {@code KEY=VALUE} as in ENV and LABEL; both sides as written. */
    record KeyValue(String key, String value) {
        public KeyValue {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
        }
    }

    /** @param stageName the lower-cased name after AS, or null; @param platform --platform, or null */
    record From(Location location, String text, String image, String stageName, String platform) implements Instruction {
    }

    /** One or more {@code ARG NAME[=DEFAULT]}. */
    record Arg(Location location, String text, List<Declaration> declarations) implements Instruction {
        public Arg {
            declarations = List.copyOf(declarations);
        }

        /** @param defaultValue as written, or null when the ARG has none */
        public record Declaration(String name, String defaultValue) {
        }
    }

    record Env(Location location, String text, List<KeyValue> pairs) implements Instruction {
        public Env {
            pairs = List.copyOf(pairs);
        }
    }

    record Label(Location location, String text, List<KeyValue> pairs) implements Instruction {
        public Label {
            pairs = List.copyOf(pairs);
        }
    }

    /**
     * A here-document ({@code <<EOF} ... {@code EOF}) of a RUN, COPY or ADD line.
     *
     * @param name    the delimiter word without quotes; for COPY, the file's name
     * @param content the lines up to the delimiter, each with its newline, as written
     * @param expand  whether the delimiter was unquoted: COPY then expands variables in the content
     * @param chomp   {@code <<-}: leading tabs are removed from every line
     */
    record Heredoc(String name, String content, boolean expand, boolean chomp) {
        public Heredoc {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(content, "content");
        }

        /** The content as used: with {@code <<-}, without the tabs that start its lines. */
        public String text() {
            return chomp ? content.replaceAll("(?m)^\\t+", "") : content;
        }
    }

    /** RUN --network: the host's network (Docker's "default" and "host"), or none at all. */
    enum RunNetwork {
        DEFAULT, NONE
    }

    /**
     * A RUN: its command, the here-documents it reads, its {@code --mount}s and {@code --network}.
     * A shell-form command that holds here-documents keeps the {@code <<EOF} words as written.
     */
    record Run(Location location, String text, Command command, List<Heredoc> heredocs, List<RunMount> mounts,
               RunNetwork network) implements Instruction {
        public Run {
            heredocs = List.copyOf(heredocs);
            mounts = List.copyOf(mounts);
            Objects.requireNonNull(network, "network");
        }
    }

    /**
     * COPY or ADD. Values as written.
     *
     * @param sources    paths and patterns in the context (or in {@code from}), and for ADD URLs
     * @param heredocs   files written inline ({@code COPY <<NAME /dest}), in the order given
     * @param from       COPY --from: a stage name or index, or an image; null for the build context
     * @param chown      --chown, or null; @param chmod --chmod, or null
     * @param link       --link (accepted: it changes how Docker caches, not what the image holds)
     * @param parents    COPY --parents: keep the sources' directories below the context (or below a "/./" in the source)
     * @param excludes   --exclude patterns
     * @param checksum   ADD --checksum=sha256:HEX of a URL, or null
     */
    record Copy(Location location, String text, boolean add, List<String> sources, List<Heredoc> heredocs,
                String destination, String from, String chown, String chmod, boolean link, boolean parents,
                List<String> excludes, String checksum) implements Instruction {
        @Override
        public String keyword() {
            return add ? "ADD" : "COPY";
        }

        public Copy {
            sources = List.copyOf(sources);
            heredocs = List.copyOf(heredocs);
            excludes = List.copyOf(excludes);
        }
    }

    /** VOLUME: paths recorded in the image config, as written. */
    record Volume(Location location, String text, List<String> paths) implements Instruction {
        public Volume {
            paths = List.copyOf(paths);
        }
    }

    /**
     * HEALTHCHECK: a command, or none ({@code HEALTHCHECK NONE}, which switches off the base
     * image's). Durations that were not given are null, as are retries.
     */
    record Healthcheck(Location location, String text, Command command, Duration interval, Duration timeout,
                       Duration startPeriod, Duration startInterval, Integer retries) implements Instruction {
    }

    /** STOPSIGNAL: the signal as written (a name like SIGQUIT, or a number), checked once expanded. */
    record StopSignal(Location location, String text, String signal) implements Instruction {
    }

    /**
     * ONBUILD: {@code trigger} is recorded in the image, as written, and runs when a later build
     * starts FROM this image; {@code parsed} is it read now, so that a bad trigger fails here.
     */
    record OnBuild(Location location, String text, String trigger, Instruction parsed) implements Instruction {
    }

    /** MAINTAINER (deprecated in Docker, still built): the image's author. */
    record Maintainer(Location location, String text, String name) implements Instruction {
    }

    record Workdir(Location location, String text, String path) implements Instruction {
    }

    record User(Location location, String text, String user) implements Instruction {
    }

    record Expose(Location location, String text, List<String> ports) implements Instruction {
        public Expose {
            ports = List.copyOf(ports);
        }
    }

    record Entrypoint(Location location, String text, Command command) implements Instruction {
    }

    record Cmd(Location location, String text, Command command) implements Instruction {
    }

    record Shell(Location location, String text, List<String> shell) implements Instruction {
        public Shell {
            shell = List.copyOf(shell);
        }
    }
}
