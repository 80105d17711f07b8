package dev.claudecage.cli;

import dev.claudecage.CageException;
import dev.claudecage.UserInputException;
import dev.claudecage.host.UntrustedText;
import picocli.CommandLine;

import java.io.PrintWriter;

/**
 * Turns failures into one line a user can act on, {@code claude-cage: <what>}, plus a hint.
 * Stack traces only with {@code CLAUDE_CAGE_DEBUG=1}. Exit codes: 2 bad input; otherwise the
 * command's own failure code (125 for {@code run}, as {@code docker run} does; 1 elsewhere).
 */
final class ErrorHandler implements CommandLine.IExecutionExceptionHandler {

    static final int BAD_INPUT = 2;
    static final int FAILURE = 1;

    /** Commands whose own failures need a code that cannot be mistaken for the cage's. */
    interface FailureCode {
        int failureExitCode();
    }

    @Override
    public int handleExecutionException(Exception exception, CommandLine commandLine,
                                        CommandLine.ParseResult parseResult) {
        return report(exception, commandLine.getErr(), commandLine.getCommand());
    }

    /** What a failure of {@code command} prints on {@code err}, and its exit code: also for a call answered without picocli. */
    static int report(Exception exception, PrintWriter err, Object command) {
        if (exception instanceof CageException cageException) {
            // Messages can quote what a cage wrote (a file name, a git error about its objects).
            err.println("claude-cage: " + UntrustedText.escape(cageException.getMessage()));
            if (cageException.hint() != null) {
                err.println("  hint: " + UntrustedText.escape(cageException.hint()));
            }
            if (debug()) {
                exception.printStackTrace(err);
            }
            err.flush();
            if (exception instanceof UserInputException) {
                return BAD_INPUT;
            }
            return command instanceof FailureCode code ? code.failureExitCode() : FAILURE;
        }
        err.println("claude-cage: internal error: " + UntrustedText.escape(exception.toString()));
        exception.printStackTrace(err);
        err.flush();
        return command instanceof FailureCode code ? code.failureExitCode() : FAILURE;
    }

    static int onBadArguments(CommandLine.ParameterException exception, String[] args) {
        CommandLine commandLine = exception.getCommandLine();
        PrintWriter err = commandLine.getErr();
        err.println("claude-cage: " + exception.getMessage());
        CommandLine.UnmatchedArgumentException.printSuggestions(exception, err);
        err.println("  hint: see '" + commandLine.getCommandSpec().qualifiedName() + " --help'");
        err.flush();
        return BAD_INPUT;
    }

    private static boolean debug() {
        String value = System.getenv("CLAUDE_CAGE_DEBUG");
        return value != null && !value.isEmpty() && !value.equals("0");
    }
}
