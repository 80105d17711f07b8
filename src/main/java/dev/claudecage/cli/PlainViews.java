package dev.claudecage.cli;

import dev.claudecage.session.SessionName;

import java.io.BufferedWriter;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.Charset;

/**
 * {@code list} (or {@code ps}) and {@code status NAME} with nothing else on the command line, the
 * calls a user or a script repeats most, answered without picocli: its classes, the command's model
 * and the parse were about a quarter of such a call (docs/performance.md). They run what
 * {@link ListCommand} and {@link StatusCommand} run, print through writers made as picocli makes its
 * own and report a failure through {@link ErrorHandler}, so the bytes and the exit code are the same
 * ({@code PlainViewsTest} holds the two paths side by side on one store). Anything else, an option,
 * {@code --help}, a second argument, a word that is not a session's name (an {@code @file}, say), is
 * left to picocli.
 */
final class PlainViews {

    private PlainViews() {
    }

    /** Whether {@link #answer} answers {@code args}. */
    static boolean answers(String[] args) {
        if (args.length == 1) {
            return args[0].equals("list") || args[0].equals("ps");
        }
        return args.length == 2 && args[0].equals("status") && SessionName.isValid(args[1]);
    }

    /** The call's exit code, once it has printed what the command prints; only for {@code args} it {@link #answers}. */
    static int answer(Context context, String[] args, PrintWriter out, PrintWriter err) {
        try {
            return args.length == 1 ? ListCommand.print(context, false, false, out, err)
                    : StatusCommand.print(context, SessionName.of(args[1]), false, out);
        } catch (Exception e) {
            // Neither command has a failure code of its own.
            return ErrorHandler.report(e, err, null);
        }
    }

    static PrintWriter stdout() {
        return writer(System.out, "sun.stdout.encoding");
    }

    static PrintWriter stderr() {
        return writer(System.err, "sun.stderr.encoding");
    }

    /** A writer on {@code stream} as picocli makes its own (CommandLine.getOut, getErr): the same charset, flushed on each line. */
    private static PrintWriter writer(OutputStream stream, String encodingProperty) {
        String encoding = System.getProperty(encodingProperty);
        Charset charset = Charset.defaultCharset();
        if (encoding != null) {
            try {
                charset = Charset.forName(encoding);
            } catch (IllegalArgumentException unknown) {
                // picocli falls back to the default charset too.
            }
        }
        return new PrintWriter(new BufferedWriter(new OutputStreamWriter(stream, charset)), true);
    }
}
