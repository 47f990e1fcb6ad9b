package dev.tokenbudget.provider.eventstream;

import software.amazon.awssdk.eventstream.HeaderValue;
import software.amazon.awssdk.eventstream.Message;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Objects;
import java.util.zip.CRC32;

/**
 * An incremental decoder of AWS's binary event-stream framing ({@code application/vnd.amazon.eventstream},
 * Bedrock's ConverseStream and InvokeModelWithResponseStream) that accepts the stream in chunks split
 * at any byte. Each frame is a 12-byte prelude (total length, headers length, prelude CRC32), headers,
 * a payload and a message CRC32; the frame itself is decoded and both checksums verified by the AWS
 * SDK's codec ({@code software.amazon.awssdk.eventstream.Message.decode}).
 *
 * <p>This class only does the framing and its bounds, because the SDK's own {@code MessageDecoder}
 * starts every stream with a 2 MiB buffer — too much per response on a gateway carrying many streams.
 * Here a frame is held only until it is complete, in a buffer that grows to that frame's size. The
 * prelude's checksum is verified before its lengths are believed, so a corrupt length never makes
 * it allocate; a frame longer than {@code maxFrameBytes} is skipped without being held (its bytes
 * counted off), and decoding goes on with the next. What cannot be resynchronised (a bad prelude
 * checksum, impossible lengths) stops decoding with {@link Listener#onFailure}; nothing here throws
 * on any input. Not thread-safe: one decoder per stream.
 */
public final class EventStreamDecoder {

    /** Bytes of a prelude: total length, headers length, prelude CRC. */
    static final int PRELUDE = 12;
    /** Prelude plus the trailing message CRC: the smallest frame. */
    static final int OVERHEAD = PRELUDE + 4;
    /** Largest headers section the format allows (128 KiB). */
    static final int MAX_HEADERS = 128 * 1024;

    /** What a decoder reports. */
    public interface Listener {

        /** A whole frame with valid checksums. */
        void onMessage(Map<String, HeaderValue> headers, byte[] payload);

        /** A frame was dropped and decoding goes on: too large, or its message checksum failed. */
        void onSkipped(String why);

        /** Decoding stopped for good: the framing cannot be trusted from here on. */
        void onFailure(String why);
    }

    private final Listener listener;
    private final long maxFrameBytes;
    private final byte[] prelude = new byte[PRELUDE];
    private int preludeLen;
    private byte[] frame;
    private int frameLen;
    private long total;
    private long skipRemaining;
    private long frames;
    private long offset;
    private boolean failed;

    public EventStreamDecoder(Listener listener, long maxFrameBytes) {
        this.listener = Objects.requireNonNull(listener, "listener");
        if (maxFrameBytes < OVERHEAD) {
            throw new IllegalArgumentException("maxFrameBytes must be >= " + OVERHEAD + ", was " + maxFrameBytes);
        }
        this.maxFrameBytes = maxFrameBytes;
    }

    /** Feeds the next chunk; the caller's bytes are read, never kept or changed. */
    public void feed(byte[] b, int off, int len) {
        Objects.checkFromIndexSize(off, len, b.length);
        int i = off;
        int end = off + len;
        while (i < end && !failed) {
            if (skipRemaining > 0) {
                int n = (int) Math.min(skipRemaining, end - i);
                skipRemaining -= n;
                i += n;
                offset += n;
                if (skipRemaining == 0) {
                    frames++;
                }
                continue;
            }
            if (preludeLen < PRELUDE) {
                int n = Math.min(PRELUDE - preludeLen, end - i);
                System.arraycopy(b, i, prelude, preludeLen, n);
                preludeLen += n;
                i += n;
                if (preludeLen == PRELUDE) {
                    startFrame();
                }
                continue;
            }
            int n = (int) Math.min(total - frameLen, end - i);
            System.arraycopy(b, i, frame, frameLen, n);
            frameLen += n;
            i += n;
            if (frameLen == total) {
                endFrame();
            }
        }
    }

    /** Ends the input: a frame cut short is reported as a failure. */
    public void finish() {
        if (failed) {
            return;
        }
        if (skipRemaining > 0) {
            fail("the stream ended inside frame " + (frames + 1) + " (skipped for its size), "
                    + skipRemaining + " bytes short");
        } else if (preludeLen > 0 && preludeLen < PRELUDE) {
            fail("the stream ended inside the prelude of frame " + (frames + 1) + " (" + preludeLen + " of "
                    + PRELUDE + " bytes)");
        } else if (preludeLen == PRELUDE) {
            fail("the stream ended inside frame " + (frames + 1) + " (" + frameLen + " of " + total + " bytes)");
        }
    }

    /** Frames seen so far, whole or skipped. */
    public long frames() {
        return frames;
    }

    private void startFrame() {
        long wireCrc = uint(prelude, 8);
        CRC32 crc = new CRC32();
        crc.update(prelude, 0, 8);
        if (crc.getValue() != wireCrc) {
            fail(String.format("frame %d at byte %d: prelude checksum mismatch (0x%08x on the wire, 0x%08x computed); "
                    + "not an AWS event stream, or corrupted", frames + 1, offset, wireCrc, crc.getValue()));
            return;
        }
        total = uint(prelude, 0);
        long headers = uint(prelude, 4);
        if (total < OVERHEAD || headers > MAX_HEADERS || headers > total - OVERHEAD) {
            fail("frame " + (frames + 1) + " at byte " + offset + ": impossible lengths (total " + total
                    + ", headers " + headers + ")");
            return;
        }
        offset += PRELUDE;
        if (total > maxFrameBytes) {
            listener.onSkipped("frame " + (frames + 1) + " of " + total + " bytes exceeds " + maxFrameBytes
                    + " bytes and was skipped");
            skipRemaining = total - PRELUDE;
            preludeLen = 0;
            return;
        }
        if (frame == null || frame.length < total) {
            frame = new byte[(int) Math.max(total, frame == null ? 0 : Math.min(2L * frame.length, maxFrameBytes))];
        }
        System.arraycopy(prelude, 0, frame, 0, PRELUDE);
        frameLen = PRELUDE;
        if (frameLen == total) {
            endFrame();
        }
    }

    private void endFrame() {
        offset += total - PRELUDE;
        frames++;
        preludeLen = 0;
        Message m;
        try {
            m = Message.decode(ByteBuffer.wrap(frame, 0, (int) total));
        } catch (RuntimeException e) {
            // the prelude's lengths were verified, so the next frame starts where this one ends
            listener.onSkipped("frame " + frames + ": " + e.getMessage());
            return;
        }
        listener.onMessage(m.getHeaders(), m.getPayload());
    }

    private void fail(String why) {
        failed = true;
        frame = null;
        listener.onFailure(why);
    }

    private static long uint(byte[] b, int at) {
        return ((b[at] & 0xFFL) << 24) | ((b[at + 1] & 0xFFL) << 16) | ((b[at + 2] & 0xFFL) << 8) | (b[at + 3] & 0xFFL);
    }
}
