package dev.tokenbudget.gateway;

import dev.tokenbudget.engine.BudgetEngine;
import dev.tokenbudget.engine.Ticket;
import dev.tokenbudget.provider.Endpoint;
import dev.tokenbudget.provider.Family;
import dev.tokenbudget.provider.UsageReader;
import dev.tokenbudget.provider.UsageReport;
import dev.tokenbudget.routing.RateLimitHeaders;
import dev.tokenbudget.routing.UpstreamLimiter;
import dev.tokenbudget.usage.TokenUsage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.function.Function;

/**
 * Reads one upstream response as it passes to the client and settles its ticket at the end.
 * The adapter calls {@link #onResponseHeaders}, then {@link #onBytes} for each chunk in order
 * (the bytes are read, never kept or changed, so the whole stream is never buffered), then
 * exactly one of {@link #complete()} (the response ended normally) or {@link #abort()} (client
 * cancel, upstream failure mid-stream).
 *
 * <p>Settlement never undercounts: final usage settles as reported; a response cut before its
 * final usage settles what it reported raised to the reservation; a response with no usage
 * settles at the reservation; only a request that got no response, or an upstream error status
 * without usage, is released. Thread-safe: chunks, completion and abort may come from different
 * threads, and the first {@code complete()} / {@code abort()} wins; later calls return its result.
 * The settle itself goes through the engine's non-blocking calls ({@code settleAsync} and
 * friends): on the in-memory store it is done when {@code complete()} returns; on Redis it is
 * queued for the tree's next script call and completes shortly after, without a thread waiting.
 */
public final class ResponseMeter {

    private static final Logger LOG = LoggerFactory.getLogger(ResponseMeter.class);

    /**
     * The size of the array, one per thread, through which {@link #onBytes(Object, int, int, ChunkCopier)}
     * copies a chunk whose bytes cannot be read in place: a larger chunk goes to the reader in pieces.
     */
    public static final int COPY_PIECE = 8 << 10;

    private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[COPY_PIECE]);

    private static final ChunkCopier<ByteBuffer> BYTE_BUFFER = ByteBuffer::get;

    /**
     * Copies {@code len} bytes of a chunk, from its index {@code from}, into {@code to} at
     * {@code toOff}: how an adapter's buffer type (an off-heap Netty buffer, a protobuf message's
     * bytes) gives up its bytes. A method reference that captures nothing costs no allocation.
     */
    @FunctionalInterface
    public interface ChunkCopier<C> {
        void copy(C chunk, int from, byte[] to, int toOff, int len);
    }

    /**
     * The status to pass to {@link #onResponseHeaders} when the adapter sees the response body but
     * not its status (APISIX's post-response phase): a body that is a provider error without any
     * usage then counts as an upstream error (released); anything else is metered as usual.
     */
    public static final int STATUS_UNKNOWN = 0;

    private final BudgetEngine engine;
    private final Ticket ticket;
    private final Family family;
    private final Endpoint endpoint;
    private int status = -1;
    private UsageReader reader;
    private MeterResult result;
    private UpstreamLimiter limiter;
    private UpstreamLimiter.Permit permit;
    private UsageReport headerUsage;

    ResponseMeter(BudgetEngine engine, Ticket ticket, Family family, Endpoint endpoint) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.ticket = ticket;
        this.family = family;
        this.endpoint = endpoint;
    }

    /** Ties the request's upstream-quota permit to this response: refunded and calibrated from it. */
    synchronized void bindUpstream(UpstreamLimiter l, UpstreamLimiter.Permit p) {
        this.limiter = l;
        this.permit = p;
    }

    /**
     * The upstream response's status, content type and headers arrived; {@code headers} (a
     * case-insensitive lookup, null when absent) lets the provider's rate-limit headers calibrate
     * the upstream quota.
     */
    public void onResponseHeaders(int status, String contentType, Function<String, String> headers) {
        UpstreamLimiter l;
        synchronized (this) {
            l = limiter;
        }
        if (l != null && headers != null) {
            l.calibrate(RateLimitHeaders.read(headers, engine.clock().now()));
        }
        if (endpoint == Endpoint.INVOKE_MODEL && headers != null) {
            UsageReport h = BedrockHeaders.usage(headers);
            synchronized (this) {
                headerUsage = h;
            }
        }
        onResponseHeaders(status, contentType);
    }

    /** The upstream response's status and content type (null when absent) arrived. */
    public synchronized void onResponseHeaders(int status, String contentType) {
        if (result != null || this.status >= 0) {
            return;
        }
        this.status = status;
        if (family != null) {
            reader = UsageReader.of(family, endpoint, contentType);
        }
    }

    /**
     * A chunk of the response body passed to the client, from the buffer's position to its limit
     * (which stay where they are): a heap buffer's array is read in place, any other buffer (off-heap,
     * read-only) is copied through one array per thread, in pieces, since the reader keeps nothing.
     */
    public void onBytes(ByteBuffer b) {
        if (b.hasArray()) {
            onBytes(b.array(), b.arrayOffset() + b.position(), b.remaining());
            return;
        }
        onBytes(b, b.position(), b.remaining(), BYTE_BUFFER);
    }

    /**
     * A chunk of the response body passed to the client, {@code len} bytes from its index
     * {@code from}, whose bytes cannot be read in place: copied by {@code copier} through one array
     * per thread, in pieces of at most {@link #COPY_PIECE} bytes, since the reader keeps nothing.
     */
    public <C> void onBytes(C chunk, int from, int len, ChunkCopier<? super C> copier) {
        byte[] scratch = SCRATCH.get();
        for (int done = 0; done < len; ) {
            int k = Math.min(len - done, COPY_PIECE);
            copier.copy(chunk, from + done, scratch, 0, k);
            onBytes(scratch, 0, k);
            done += k;
        }
    }

    /** A chunk of the response body passed to the client. */
    public synchronized void onBytes(byte[] b, int off, int len) {
        if (result != null || reader == null) {
            return;
        }
        try {
            reader.feed(b, off, len);
        } catch (RuntimeException e) {
            // the reader does not throw on bad input; this guards the response path against a bug
            LOG.warn("usage reader failed; the response will be settled conservatively", e);
            reader = null;
        }
    }

    /** The response ended normally: settle with its usage. */
    public synchronized MeterResult complete() {
        return finish(false);
    }

    /** The response was cut short (client cancel, upstream failure): settle what was seen, conservatively. */
    public synchronized MeterResult abort() {
        return finish(true);
    }

    /**
     * The request never left the gateway: its caller abandoned it before forwarding (Envoy gave up
     * on the admission's answer). Releases the reservation and gives the upstream quota back all
     * it took, the request included. Counts as the meter's end, like {@link #abort()}.
     */
    public synchronized MeterResult withdraw() {
        if (result != null) {
            return result;
        }
        if (ticket != null && ticket.holdsLease()) {
            engine.releaseAsync(ticket);
            result = new MeterResult(MeterResult.Outcome.RELEASED, UsageReport.NONE, null);
        } else {
            result = new MeterResult(MeterResult.Outcome.NOT_METERED, UsageReport.NONE, null);
        }
        if (limiter != null) {
            limiter.giveBack(permit);
        }
        return result;
    }

    /** The result, once completed or aborted; null before. */
    public synchronized MeterResult result() {
        return result;
    }

    /** Usage seen so far. */
    public synchronized UsageReport current() {
        return reader == null ? UsageReport.NONE : reader.current();
    }

    private MeterResult finish(boolean aborted) {
        if (result != null) {
            return result;
        }
        UsageReport report = reader == null ? UsageReport.NONE : reader.finish();
        if (!report.known() && headerUsage != null && !aborted) {
            // an InvokeModel body of a model whose format we do not read: Bedrock's headers count it
            report = new UsageReport(report.model(), headerUsage.inputTokens(), headerUsage.outputTokens(),
                    headerUsage.cachedInputTokens(), null, true, report.error(), report.note());
        }
        try {
            result = settle(report, aborted);
        } catch (RuntimeException e) {
            LOG.warn("settling ticket {} failed; its lease will expire and be charged at the reservation", ticket, e);
            result = new MeterResult(MeterResult.Outcome.SETTLED_UNKNOWN, report, null);
        }
        if (limiter != null) {
            // give the upstream quota back what the estimate took beyond the charge
            TokenUsage c = result.charged();
            boolean charged = c != null || result.outcome() == MeterResult.Outcome.SETTLED_UNKNOWN;
            limiter.settle(permit, c != null ? c.inputTokens() : charged ? permit.input() : 0,
                    c != null ? c.outputTokens() : charged ? permit.output() : 0);
        }
        return result;
    }

    private MeterResult settle(UsageReport report, boolean aborted) {
        if (ticket == null || !ticket.holdsLease()) {
            return new MeterResult(MeterResult.Outcome.NOT_METERED, report, null);
        }
        if (report.complete() && report.known()) {
            TokenUsage u = report.usage().orElseThrow();
            engine.settleAsync(ticket, u);
            return new MeterResult(MeterResult.Outcome.SETTLED, report, u);
        }
        if (report.inputTokens() != null || report.outputTokens() != null) {
            // cut before the final count: the provider may have generated up to the ceiling
            long in = Math.max(orZero(report.inputTokens()), ticket.reservedInput());
            long out = Math.max(orZero(report.outputTokens()), ticket.reservedOutput());
            TokenUsage u = new TokenUsage(in, out, Math.min(orZero(report.cachedInputTokens()), in),
                    Math.min(orZero(report.reasoningTokens()), out));
            engine.settleAsync(ticket, u);
            return new MeterResult(MeterResult.Outcome.SETTLED_PARTIAL, report, u);
        }
        boolean noResponse = status < 0 && aborted;
        boolean upstreamError = status >= 400 || status == STATUS_UNKNOWN && report.error() != null;
        if (noResponse || upstreamError) {
            engine.releaseAsync(ticket);
            return new MeterResult(MeterResult.Outcome.RELEASED, report, null);
        }
        engine.settleUnknownAsync(ticket);
        return new MeterResult(MeterResult.Outcome.SETTLED_UNKNOWN, report, null);
    }

    private static long orZero(Long v) {
        return v == null ? 0 : v;
    }
}
