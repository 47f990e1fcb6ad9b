package dev.tokenbudget.envoy;

import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.stub.ServerCallStreamObserver;

import java.util.function.Consumer;

/**
 * The answer side of an {@link ExtProcStream} driven directly on the caller's thread, without gRPC:
 * each answer goes to a consumer, a failure throws, the call is never cancelled nor flow-controlled.
 */
final class DirectObserver extends ServerCallStreamObserver<ProcessingResponse> {

    private final Consumer<ProcessingResponse> answers;

    DirectObserver(Consumer<ProcessingResponse> answers) {
        this.answers = answers;
    }

    @Override
    public boolean isCancelled() {
        return false;
    }

    @Override
    public void setOnCancelHandler(Runnable r) {
        // never cancelled
    }

    @Override
    public void setCompression(String c) {
        // not on the wire
    }

    @Override
    public boolean isReady() {
        return true;
    }

    @Override
    public void setOnReadyHandler(Runnable r) {
        // always ready
    }

    @Override
    public void disableAutoInboundFlowControl() {
        // no flow control
    }

    @Override
    public void request(int n) {
        // no flow control
    }

    @Override
    public void setMessageCompression(boolean on) {
        // not on the wire
    }

    @Override
    public void onNext(ProcessingResponse value) {
        answers.accept(value);
    }

    @Override
    public void onError(Throwable t) {
        throw new AssertionError("the processor failed the stream", t);
    }

    @Override
    public void onCompleted() {
        // the stream ended
    }
}
