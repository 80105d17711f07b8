package dev.claudecage.image.build;

import dev.claudecage.CageException;

import java.util.List;

/** A build step's command failed; the progress shows its last lines of output before the error. */
final class StepFailedException extends CageException {

    private static final long serialVersionUID = 1L;

    private final List<String> outputTail;

    StepFailedException(String message, String hint, List<String> outputTail) {
        super(message, hint);
        this.outputTail = List.copyOf(outputTail);
    }

    List<String> outputTail() {
        return outputTail;
    }
}
