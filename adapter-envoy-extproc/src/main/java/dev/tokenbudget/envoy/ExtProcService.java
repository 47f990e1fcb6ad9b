package dev.tokenbudget.envoy;

import dev.tokenbudget.gateway.BudgetGateway;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code envoy.service.ext_proc.v3.ExternalProcessor}: one {@link ExtProcStream} per HTTP stream.
 * No thread waits for the store: an admission the store does not decide at once (Redis) continues
 * when it is, on the store's I/O thread when all that follows is the forward's answer handed to
 * gRPC, else (a signed provider, a reply, observability mode) on the continuation executor,
 * normally the server's own callback pool ({@link ExtProcServer#callbackPool}).
 */
public final class ExtProcService extends ExternalProcessorGrpc.ExternalProcessorImplBase {

    private final BudgetGateway gateway;
    private final UpstreamSigning signing;
    private final MessageTimeouts timeouts;
    private final Executor continuations;
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicInteger abandoned = new AtomicInteger();

    /**
     * @param timeouts      the ext_proc filter's {@code message_timeout} and {@code max_message_timeout},
     *                      which every admission answer must beat
     * @param continuations where an admission the store did not decide at once goes on: the
     *                      executor the server runs the callbacks on
     */
    public ExtProcService(BudgetGateway gateway, MessageTimeouts timeouts, Executor continuations) {
        this(gateway, UpstreamSigning.none(), timeouts, continuations);
    }

    /**
     * @param signing where Envoy's routes send signed providers' requests (Bedrock SigV4 covers the host)
     */
    ExtProcService(BudgetGateway gateway, UpstreamSigning signing, MessageTimeouts timeouts, Executor continuations) {
        this.gateway = Objects.requireNonNull(gateway, "gateway");
        this.signing = Objects.requireNonNull(signing, "signing");
        this.timeouts = Objects.requireNonNull(timeouts, "timeouts");
        Objects.requireNonNull(continuations, "continuations");
        // once the pool has shut down (the server drained), a late admission still withdraws what it took
        this.continuations = r -> {
            try {
                continuations.execute(r);
            } catch (RejectedExecutionException e) {
                r.run();
            }
        };
    }

    @Override
    public StreamObserver<ProcessingRequest> process(StreamObserver<ProcessingResponse> responses) {
        open.incrementAndGet();
        return new ExtProcStream(gateway, signing, timeouts, continuations,
                (ServerCallStreamObserver<ProcessingResponse>) responses, new StreamLog(open::decrementAndGet),
                abandoned::incrementAndGet);
    }

    /** Streams open right now. */
    public int openStreams() {
        return open.get();
    }

    /** Streams Envoy ended while their admission was still being decided (what they took is withdrawn). */
    public int abandonedAdmissions() {
        return abandoned.get();
    }

    public BudgetGateway gateway() {
        return gateway;
    }
}
