package dev.tokenbudget.provider.sse;

/**
 * Receives a Server-Sent Events stream as {@link SseParser} decodes it. The payload of {@code data:}
 * lines arrives in pieces as the bytes do, so an event of any size is never held in memory; a
 * piece may end inside a UTF-8 sequence (the listener decodes across pieces, e.g. with a streaming
 * JSON parser).
 */
public interface SseListener {

    /** The value of an {@code event:} line (the event's type), before or between its data lines. */
    default void onEventType(String type) {
    }

    /**
     * Part of the payload of the current event. Between two {@code data:} lines of one event the
     * parser passes a single {@code '\n'}, as the SSE specification joins them. The bytes are the
     * caller's (or that newline's): they may be read until the parser's {@code feed} that passed
     * them returns, and must not be changed.
     */
    void onData(byte[] bytes, int offset, int length);

    /** The event is complete (a blank line). Called only for events that carried data. */
    void onEventEnd();

    /**
     * A blank line ended an event that had fields but no data (or whose data was dropped as too
     * large): the listener forgets its event type.
     */
    default void onEventSkipped() {
    }

    /**
     * The current event's data exceeded the parser's cap: the rest of it is dropped and no
     * {@link #onEventEnd()} follows for it; the listener discards what it has of the event.
     */
    default void onEventTooLarge() {
    }
}
