package dev.tokenbudget.envoy;

import io.grpc.Status;

/** A message that is malformed or cannot come now: the stream ends with this status, the server goes on. */
final class ProtocolViolation extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient Status status;

    private ProtocolViolation(Status status) {
        super(status.getDescription(), null, false, false);
        this.status = status;
    }

    Status status() {
        return status;
    }

    static ProtocolViolation invalid(String why) {
        return new ProtocolViolation(Status.INVALID_ARGUMENT.withDescription("tokenbudget: " + why));
    }

    static ProtocolViolation precondition(String why) {
        return new ProtocolViolation(Status.FAILED_PRECONDITION.withDescription("tokenbudget: " + why));
    }

    static ProtocolViolation outOfOrder(String message, String state) {
        return precondition(message + " cannot come now: this stream is in state " + state);
    }
}
