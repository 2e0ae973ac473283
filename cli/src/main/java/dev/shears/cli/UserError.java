package dev.shears.cli;

/** An error the user can fix (bad option, missing file): printed as one line, exit code 2. */
public final class UserError extends RuntimeException {
    public UserError(String message) {
        super(message);
    }
}
