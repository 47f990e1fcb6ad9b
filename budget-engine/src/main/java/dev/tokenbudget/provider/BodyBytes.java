package dev.tokenbudget.provider;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * A request body as the gateway holds it: one array, or the buffers it arrived in (off-heap ones
 * included), read in place. Reading it never copies the whole body; {@link #toArray()} does, once,
 * for the rare reader that needs one array (a body to rewrite, a signature, a refused body's error).
 * Views of buffers are only valid while their owner keeps them: use one within the call it is
 * passed to.
 */
public final class BodyBytes {

    /** Where bytes of an off-heap buffer are copied on their way to a reader: one array per thread. */
    private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[8192]);

    private static final BodyBytes EMPTY = new BodyBytes(new byte[0], null, 0);

    private byte[] array;
    private final ByteBuffer[] chunks;
    private final long length;

    private BodyBytes(byte[] array, ByteBuffer[] chunks, long length) {
        this.array = array;
        this.chunks = chunks;
        this.length = length;
    }

    /** A body in one array (not copied: the caller does not change it afterwards); null is an empty body. */
    public static BodyBytes of(byte[] bytes) {
        return bytes == null || bytes.length == 0 ? EMPTY : new BodyBytes(bytes, null, bytes.length);
    }

    /** A body in the order of {@code buffers}, each from its position to its limit; the buffers are not moved. */
    public static BodyBytes of(List<ByteBuffer> buffers) {
        ByteBuffer[] views = new ByteBuffer[buffers.size()];
        long n = 0;
        for (int i = 0; i < views.length; i++) {
            views[i] = buffers.get(i).duplicate();
            n += views[i].remaining();
        }
        return n == 0 ? EMPTY : new BodyBytes(null, views, n);
    }

    /** Receives a body piece by piece; the array is only valid during the call. */
    @FunctionalInterface
    public interface Chunks {
        /** @return false to stop reading */
        boolean chunk(byte[] b, int off, int len);
    }

    public long length() {
        return length;
    }

    public boolean isEmpty() {
        return length == 0;
    }

    /** Hands the body to {@code to} in pieces, in order, without copying more than a small array at a time. */
    public void read(Chunks to) {
        if (array != null) {
            to.chunk(array, 0, array.length);
            return;
        }
        for (ByteBuffer c : chunks) {
            ByteBuffer b = c.duplicate();
            if (b.hasArray()) {
                if (!to.chunk(b.array(), b.arrayOffset() + b.position(), b.remaining())) {
                    return;
                }
                continue;
            }
            byte[] scratch = SCRATCH.get();
            while (b.hasRemaining()) {
                int k = Math.min(b.remaining(), scratch.length);
                b.get(scratch, 0, k);
                if (!to.chunk(scratch, 0, k)) {
                    return;
                }
            }
        }
    }

    /** The whole body in one array: the array it was made from, or one copy made on first use and kept. */
    public byte[] toArray() {
        if (array == null) {
            byte[] all = new byte[Math.toIntExact(length)];
            int at = 0;
            for (ByteBuffer c : chunks) {
                ByteBuffer b = c.duplicate();
                int k = b.remaining();
                b.get(all, at, k);
                at += k;
            }
            array = all;
        }
        return array;
    }
}
