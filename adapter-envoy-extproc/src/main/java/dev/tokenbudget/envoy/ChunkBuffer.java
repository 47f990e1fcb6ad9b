package dev.tokenbudget.envoy;

/**
 * A response body chunk's bytes, copied out of its message for the meter into a buffer that the
 * thread keeps, instead of a new array per chunk: {@link dev.tokenbudget.gateway.ResponseMeter#onBytes}
 * reads the bytes before it returns and keeps none, and a stream's callbacks never run on two
 * threads at once. Chunks larger than {@link #KEPT_BYTES} get an array of their own, so that a
 * thread holds at most that much.
 */
final class ChunkBuffer {

    /** The largest buffer a thread keeps. */
    static final int KEPT_BYTES = 64 << 10;

    private static final ThreadLocal<byte[]> BUFFER = ThreadLocal.withInitial(() -> new byte[4096]);

    private ChunkBuffer() {
    }

    /** An array of at least {@code n} bytes, to be filled and read before the calling thread asks again. */
    static byte[] holding(int n) {
        byte[] b = BUFFER.get();
        if (b.length >= n) {
            return b;
        }
        b = new byte[n];
        if (n <= KEPT_BYTES) {
            BUFFER.set(b);
        }
        return b;
    }
}
