package dev.tokenbudget.fake;

/** A request the fake refuses the way the real provider would: a status, an error type and a message. */
final class ApiError extends Exception {

    final int status;
    final String type;

    ApiError(int status, String type, String message) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
    }

    static ApiError invalid(String message) {
        return new ApiError(400, "invalid_request_error", message);
    }
}
