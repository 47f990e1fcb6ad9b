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
    private final AtomicInteger open = new AtomicInteger();

    public ExtProcService(BudgetGateway gateway) {
        this.gateway = Objects.requireNonNull(gateway, "gateway");
    }

    @Override
    public StreamObserver<ProcessingRequest> process(StreamObserver<ProcessingResponse> responses) {
        open.incrementAndGet();
        return new ExtProcStream(gateway, (ServerCallStreamObserver<ProcessingResponse>) responses,
                new StreamLog(open::decrementAndGet));
    }

    /** Streams open right now. */
    public int openStreams() {
        return open.get();
    }

    public BudgetGateway gateway() {
        return gateway;
    }
}
