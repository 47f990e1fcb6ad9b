package dev.tokenbudget.envoy;

import java.io.ByteArrayOutputStream;

/**
 * A request body gathered from STREAMED chunks (observability mode), kept up to one byte past the
 * gateway's bound: enough for the gateway to answer 413, never more memory than that.
 */
final class BoundedBody {

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final long keep;

    BoundedBody(long maxBodyBytes) {
        this.keep = maxBodyBytes + 1;
    }

    void append(byte[] chunk) {
        long room = keep - bytes.size();
        if (room > 0) {
            bytes.write(chunk, 0, (int) Math.min(room, chunk.length));
        }
    }

    byte[] toByteArray() {
        return bytes.toByteArray();
    }
}
