package dev.claudecage.image.dockerfile;

import java.util.List;
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

    /** The keyword in upper case, e.g. RUN. */
    String keyword();

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
        @Override
        public String keyword() {
            return "FROM";
        }
    }

    /** One or more {@code ARG NAME[=DEFAULT]}. */
    record Arg(Location location, String text, List<Declaration> declarations) implements Instruction {
        @Override
        public String keyword() {
            return "ARG";
        }

        public Arg {
            declarations = List.copyOf(declarations);
        }

        /** @param defaultValue as written, or null when the ARG has none */
        public record Declaration(String name, String defaultValue) {
        }
    }

    record Env(Location location, String text, List<KeyValue> pairs) implements Instruction {
        @Override
        public String keyword() {
            return "ENV";
        }

        public Env {
            pairs = List.copyOf(pairs);
        }
    }

    record Label(Location location, String text, List<KeyValue> pairs) implements Instruction {
        @Override
        public String keyword() {
            return "LABEL";
        }

        public Label {
            pairs = List.copyOf(pairs);
        }
    }

    record Run(Location location, String text, Command command) implements Instruction {
        @Override
        public String keyword() {
            return "RUN";
        }
    }

    /**
     * COPY, or ADD of files from the context (ADD of a URL is refused by the parser).
     *
     * @param from COPY --from: a stage name or index, or an image; null for the build context
     * @param chown --chown as written, or null; @param chmod --chmod as written, or null
     */
    record Copy(Location location, String text, boolean add, List<String> sources, String destination,
                String from, String chown, String chmod) implements Instruction {
        @Override
        public String keyword() {
            return add ? "ADD" : "COPY";
        }

        public Copy {
            sources = List.copyOf(sources);
        }
    }

    record Workdir(Location location, String text, String path) implements Instruction {
        @Override
        public String keyword() {
            return "WORKDIR";
        }
    }

    record User(Location location, String text, String user) implements Instruction {
        @Override
        public String keyword() {
            return "USER";
        }
    }

    record Expose(Location location, String text, List<String> ports) implements Instruction {
        @Override
        public String keyword() {
            return "EXPOSE";
        }

        public Expose {
            ports = List.copyOf(ports);
        }
    }

    record Entrypoint(Location location, String text, Command command) implements Instruction {
        @Override
        public String keyword() {
            return "ENTRYPOINT";
        }
    }

    record Cmd(Location location, String text, Command command) implements Instruction {
        @Override
        public String keyword() {
            return "CMD";
        }
    }

    record Shell(Location location, String text, List<String> shell) implements Instruction {
        @Override
        public String keyword() {
            return "SHELL";
        }

        public Shell {
            shell = List.copyOf(shell);
        }
    }
}
