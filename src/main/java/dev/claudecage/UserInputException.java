package dev.claudecage;

/**
 * Bad input from the user: a flag, a configuration value, a file. Always exit code 2.
 * The message names what is wrong, the bad value and what is allowed.
 */
public class UserInputException extends CageException {

    private static final long serialVersionUID = 1L;

    public UserInputException(String message) {
        super(message);
    }

    public UserInputException(String message, String hint) {
        super(message, hint);
    }
}
