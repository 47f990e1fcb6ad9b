package dev.tokenbudget.envoy;

import dev.tokenbudget.engine.BudgetEngine;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.HeadersResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.BindableService;
import io.grpc.stub.StreamObserver;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Benchmark server (not a test): the processor {@link ExtProcBenchmark} measures, alone in its JVM
 * so that the load client's work is not charged to it. Prints {@code port=N} once it listens and
 * serves until its standard input closes.
 * Usage: ExtProcBenchServer null|memory|redis handlerThreads [redisUri]
 */
public final class ExtProcBenchServer {

    private ExtProcBenchServer() {
    }

    public static void main(String[] args) throws Exception {
        String processor = args[0];
        int handlerThreads = Integer.parseInt(args[1]);
        BudgetEngine engine = switch (processor) {
            case "null", "memory" -> ExtProcStreamCost.engine();
            case "redis" -> ExtProcStreamCost.engine("store: { type: redis, redis: { uri: \"" + args[2]
                    + "\", timeout: 2s, key_prefix: tbbench-" + Long.toString(System.nanoTime(), 36) + " } }\n");
            default -> throw new IllegalArgumentException("processor must be null, memory or redis, was " + processor);
        };
        ExecutorService callbacks = ExtProcServer.callbackPool(handlerThreads);
        BindableService service = processor.equals("null") ? new NullProcessor()
                : new ExtProcService(ExtProcStreamCost.gateway(engine),
                        new MessageTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(5)), callbacks);
        AtomicInteger noCount = new AtomicInteger();
        ExtProcServer server = new ExtProcServer(new InetSocketAddress("127.0.0.1", 0), service, noCount::get,
                32 << 20, callbacks, engine).start();
        // a profile of this server's whole life (warm-up included): -Dbench.jfr=DIR, through
        // EXTPROC_SERVER_JAVA_OPTS; written to DIR/PROCESSOR-PID.jfr when it stops
        String jfrDir = System.getProperty("bench.jfr");
        jdk.jfr.Recording jfr = null;
        if (jfrDir != null) {
            jfr = new jdk.jfr.Recording(jdk.jfr.Configuration.getConfiguration("profile"));
            jfr.setDestination(java.nio.file.Path.of(jfrDir, processor + "-" + ProcessHandle.current().pid() + ".jfr"));
            jfr.start();
        }
        System.out.println("port=" + server.port());
        System.out.flush();
        InputStream in = System.in;
        while (in.read() >= 0) {
            // serves until the benchmark closes our standard input
        }
        if (jfr != null) {
            jfr.stop();
        }
        server.drain(Duration.ofSeconds(5));
    }

    /**
     * Answers every message with the empty answer of its kind (asking for the response body, as
     * the real processor does) and closes after the response: gRPC cost only.
     */
    static final class NullProcessor extends ExternalProcessorGrpc.ExternalProcessorImplBase {
        @Override
        public StreamObserver<ProcessingRequest> process(StreamObserver<ProcessingResponse> out) {
            return new StreamObserver<>() {
                @Override
                public void onNext(ProcessingRequest r) {
                    ProcessingResponse.Builder a = ProcessingResponse.newBuilder();
                    switch (r.getRequestCase()) {
                        case REQUEST_HEADERS -> a.setRequestHeaders(HeadersResponse.getDefaultInstance());
                        case REQUEST_BODY -> a.setRequestBody(BodyResponse.getDefaultInstance());
                        // asks for the response body as the real processor does (the example's
                        // response_body_mode is NONE), so both do the same protocol work
                        case RESPONSE_HEADERS -> a.setResponseHeaders(HeadersResponse.getDefaultInstance())
                                .setModeOverride(ProcessingModes.METERED_RESPONSE);
                        default -> a.setResponseBody(BodyResponse.getDefaultInstance());
                    }
                    out.onNext(a.build());
                    if (r.hasResponseBody() && r.getResponseBody().getEndOfStream()) {
                        out.onCompleted();
                    }
                }

                @Override
                public void onError(Throwable t) {
                    // stream gone
                }

                @Override
                public void onCompleted() {
                    // Envoy half-closed
                }
            };
        }
    }
}
