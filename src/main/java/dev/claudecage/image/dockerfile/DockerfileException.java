package dev.claudecage.image.dockerfile;

import dev.claudecage.UserInputException;

/**
 * A Dockerfile that cannot be built as written: malformed, or asking for something the builder
 * does not do. The message starts with {@code file:line: INSTRUCTION} so an editor can jump there.
 */
public final class DockerfileException extends UserInputException {

    private static final long serialVersionUID = 1L;

    public DockerfileException(Location location, String instruction, String problem) {
        this(location, instruction, problem, null);
    }

    public DockerfileException(Location location, String instruction, String problem, String hint) {
        super(location + ": " + abbreviate(instruction) + ": " + problem, hint);
    }

    /** The instruction on one line, long RUN lines cut so that the problem stays readable. */
    public static String abbreviate(String instruction) {
        String oneLine = instruction.strip().replaceAll("\\s+", " ");
        return oneLine.length() <= 80 ? oneLine : oneLine.substring(0, 77) + "...";
    }
}
