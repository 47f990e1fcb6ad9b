package dev.tokenbudget.reliability.soak;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenbudget.fake.ProviderTally;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The result of a soak run as text, and whether it passed: settled usage equals reported usage
 * (zero lost settlements), nothing left reserved, every admitted request reached the provider and
 * completed, no 5xx and no transport error, every stream ended with its last event, no store
 * failure or expired lease in the gateway's log, and a heap that did not grow.
 */
final class SoakReport {

    private final SoakOptions o;
    private final String prefix;
    private final Duration ran;
    private final LoadGenerator load;
    private final JsonNode window;
    private final ProviderTally tally;
    private final HeapSampler.Sample before;
    private final List<HeapSampler.Sample> during;
    private final HeapSampler.Sample after;
    private final String gatewayLog;
    private final List<String> openLeases;
    private final List<String> failures = new ArrayList<>();
    private final String text;

    SoakReport(SoakOptions o, String prefix, Duration ran, LoadGenerator load, JsonNode window, ProviderTally tally,
               HeapSampler.Sample before, List<HeapSampler.Sample> during, HeapSampler.Sample after,
               String gatewayLog, List<String> openLeases) {
        this.o = o;
        this.prefix = prefix;
        this.ran = ran;
        this.load = load;
        this.window = window;
        this.tally = tally;
        this.before = before;
        this.during = during;
        this.after = after;
        this.gatewayLog = gatewayLog;
        this.openLeases = openLeases;
        this.text = render();
    }

    static String mib(long kib) {
        return kib < 0 ? "?" : String.format("%.1f MiB", kib / 1024.0);
    }

    String text() {
        return text;
    }

    private String render() {
        StringBuilder b = new StringBuilder();
        long sent = load.sent();
        b.append(String.format("tokenbudget soak, %s: quickstart jar on %s (key prefix %s), %d clients, %d s%n",
                Instant.now(), o.redis(), prefix, o.concurrency(), ran.toSeconds()));
        b.append(String.format("requests        %d (%.1f/s); latency ms p50 %s, p90 %s, p99 %s, max %s%n", sent,
                sent / Math.max(1.0, ran.toMillis() / 1000.0), load.latencies().percentile(50),
                load.latencies().percentile(90), load.latencies().percentile(99), load.latencies().percentile(100)));
        long admitted = 0;
        for (Map.Entry<String, Long> e : load.outcomes().entrySet()) {
            b.append(String.format("  %-28s %d%n", e.getKey(), e.getValue()));
            String status = e.getKey().substring(e.getKey().indexOf(' ') + 1);
            if (status.equals("200")) {
                admitted += e.getValue();
            } else if (!status.equals("429")) {
                failures.add(e.getValue() + " x " + e.getKey());
            }
        }
        check(load.incompleteStreams() == 0, load.incompleteStreams() + " streams without their last event");
        long settledIn = window.path("used").path("input").asLong();
        long settledOut = window.path("used").path("output").asLong();
        long reserved = window.path("reserved").path("total").asLong();
        b.append(String.format("settled         input %d + output %d = %d tokens (soak-org's month, admin API)%n",
                settledIn, settledOut, settledIn + settledOut));
        b.append(String.format("reported        input %d + output %d = %d tokens (fake provider: %d requests, %d "
                        + "completed, %d aborted)%n", tally.inputTokens(), tally.outputTokens(), tally.totalTokens(),
                tally.requests(), tally.completed(), tally.aborted()));
        long lost = tally.totalTokens() - (settledIn + settledOut);
        b.append(String.format("difference      %d tokens (%s)%n", lost, lost == 0 && settledIn == tally.inputTokens()
                ? "zero lost settlements" : "NOT EQUAL"));
        b.append(String.format("reserved        %d tokens at the end%n", reserved));
        for (String l : openLeases) {
            b.append("  ").append(l).append(System.lineSeparator());
        }
        check(settledIn == tally.inputTokens() && settledOut == tally.outputTokens(), "settled != reported");
        check(reserved == 0, reserved + " tokens still reserved two minutes after the load");
        check(admitted == tally.completed() && tally.aborted() == 0, admitted + " admitted but the provider completed "
                + tally.completed() + " and aborted " + tally.aborted());
        long storeFailures = count(gatewayLog, "budget store failed");
        long expired = count(gatewayLog, "expired unsettled");
        b.append(String.format("gateway log     %d store failures (%d on reserve: admitted uncounted or refused), "
                        + "%d settles taken on retry, %d expired leases, %d WARN/ERROR lines%n", storeFailures,
                count(gatewayLog, "failed on reserve"), count(gatewayLog, "on retry"), expired,
                count(gatewayLog, " WARN ") + count(gatewayLog, " ERROR ")));
        check(storeFailures == 0 && expired == 0, "store failures or expired leases in the gateway log");
        b.append("heap after GC   before load ").append(mib(before.heapUsedKib()));
        for (HeapSampler.Sample s : during) {
            b.append(String.format(" | %ds %s", s.atSeconds(), mib(s.heapUsedKib())));
        }
        b.append(" | after ").append(mib(after.heapUsedKib())).append('\n');
        b.append(String.format("rss             before %s, at the end of the load %s, after %s%n",
                mib(before.rssKib()), during.isEmpty() ? "?" : mib(during.get(during.size() - 1).rssKib()),
                mib(after.rssKib())));
        boolean grew = HeapSampler.grew(during);
        b.append("heap verdict    ").append(during.size() < HeapSampler.MIN_SAMPLES
                ? "not judged (fewer than " + HeapSampler.MIN_SAMPLES + " samples under load)"
                : grew ? "GREW (last third of the samples > 1.5 x and > 32 MiB above the middle third)"
                : "flat (last third of the samples within 1.5 x or 32 MiB of the middle third)").append('\n');
        check(!grew, "the heap grew");
        b.append("result          ").append(failures.isEmpty() ? "PASS" : "FAIL: " + String.join("; ", failures))
                .append('\n');
        return b.toString();
    }

    boolean passed() {
        return failures.isEmpty();
    }

    private void check(boolean ok, String failure) {
        if (!ok) {
            failures.add(failure);
        }
    }

    static long count(String text, String needle) {
        long n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length())) {
            n++;
        }
        return n;
    }
}
