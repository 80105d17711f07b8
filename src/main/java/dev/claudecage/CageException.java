package dev.claudecage;

/**
 * A failure of claude-cage itself (not of the command in the cage), with a message a user can
 * act on. The CLI prints {@code claude-cage: <message>} and, when there is one, the hint.
 */
public class CageException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String hint;

    public CageException(String message) {
        this(message, null, null);
    }

    public CageException(String message, String hint) {
        this(message, hint, null);
    }

    public CageException(String message, String hint, Throwable cause) {
        super(message, cause);
        this.hint = hint;
    }

    /** What the user can do about it, or null. */
    public String hint() {
        return hint;
    }
}
