package dev.tokenbudget.store;

/** The store could not answer (unreachable, timed out, or failed); the engine applies fail modes. */
public final class StoreUnavailableException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public StoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
