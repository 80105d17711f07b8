package dev.claudecage.process;

import dev.claudecage.CageException;

import java.util.List;

/** An external command failed, timed out or could not be started; keeps the command and its output. */
public final class ExternalCommandException extends CageException {

    private static final long serialVersionUID = 1L;

    private final List<String> command;
    private final int exitCode;
    private final String stderr;

    public ExternalCommandException(String message, String hint, List<String> command, int exitCode, String stderr,
                                    Throwable cause) {
        super(message, hint, cause);
        this.command = List.copyOf(command);
        this.exitCode = exitCode;
        this.stderr = stderr;
    }

    public List<String> command() {
        return command;
    }

    /** The exit code, or -1 when the command did not run to an end (not found, timed out). */
    public int exitCode() {
        return exitCode;
    }

    public String stderr() {
        return stderr;
    }
}
