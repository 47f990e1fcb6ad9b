package dev.tokenbudget.envoy;

import dev.tokenbudget.gateway.Forward;
import dev.tokenbudget.gateway.Identified;
import dev.tokenbudget.gateway.MeterResult;
import io.grpc.Status;

/** What one ext_proc stream reports as it goes, for its log line ({@link StreamLog}). */
interface StreamRecord {
    void observed(boolean on);

    void request(String method, String path);

    void identified(Identified id);

    void forwarded(Forward f);

    void replied(int status);

    void responseStatus(int status);

    void responseBytes(int n);

    void meter(MeterResult r);

    void failed(Status s);

    void error(RuntimeException e);

    /** The stream ended; called at least once, only the first call counts. */
    void end(String how);
}
