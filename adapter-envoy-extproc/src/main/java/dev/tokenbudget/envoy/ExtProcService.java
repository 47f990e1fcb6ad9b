package dev.tokenbudget.envoy;

import dev.tokenbudget.gateway.BudgetGateway;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/** {@code envoy.service.ext_proc.v3.ExternalProcessor}: one {@link ExtProcStream} per HTTP stream. */
public final class ExtProcService extends ExternalProcessorGrpc.ExternalProcessorImplBase {

    private final BudgetGateway gateway;
    private final UpstreamSigning signing;
    private final MessageTimeouts timeouts;
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicInteger abandoned = new AtomicInteger();

    /**
     * @param timeouts the ext_proc filter's {@code message_timeout} and {@code max_message_timeout},
     *                 which every admission answer must beat
     */
    public ExtProcService(BudgetGateway gateway, MessageTimeouts timeouts) {
        this(gateway, UpstreamSigning.none(), timeouts);
    }

    /**
     * @param signing where Envoy's routes send signed providers' requests (Bedrock SigV4 covers the host)
     */
    ExtProcService(BudgetGateway gateway, UpstreamSigning signing, MessageTimeouts timeouts) {
        this.gateway = Objects.requireNonNull(gateway, "gateway");
        this.signing = Objects.requireNonNull(signing, "signing");
        this.timeouts = Objects.requireNonNull(timeouts, "timeouts");
    }

    @Override
    public StreamObserver<ProcessingRequest> process(StreamObserver<ProcessingResponse> responses) {
        open.incrementAndGet();
        return new ExtProcStream(gateway, signing, timeouts, (ServerCallStreamObserver<ProcessingResponse>) responses,
                new StreamLog(open::decrementAndGet), abandoned::incrementAndGet);
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
