package dev.tokenbudget.envoy;

import com.google.protobuf.util.Durations;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.service.ext_proc.v3.ProtocolConfiguration;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Envoy's side of the ext_proc protocol, as a test fixture: one {@link ExternalProcessor} filter
 * config and, per HTTP stream, an {@link EnvoyFilter} that checks each message a test sends is one Envoy
 * would send now, and applies each answer the way Envoy does, or throws what Envoy would do with
 * it ({@link Refused}: Envoy answers 500 / 504, or silently drops the answer).
 *
 * <p>Every rule names the Envoy function it mirrors. Read at Envoy main after v1.37.0 (the copy in
 * the public source index, which gives no commit id: the filter with {@code status_on_error},
 * {@code processing_request_modifier}, FULL_DUPLEX_STREAMED and v1.37's stream-close optimization):
 * {@code source/extensions/filters/http/ext_proc/ext_proc.cc} (Filter::onReceiveMessage and the
 * encode/decode callbacks), {@code processor_state.cc} / {@code processor_state.h} (ProcessorState),
 * and {@link EnvoyHeaderRules} for header mutations. Time is the engine's manual clock, so a
 * per-message timeout is a deadline on that clock, never a wall-clock wait.
 */
final class EnvoyRules {

    /** What Envoy does instead of what the processor meant: a local reply, or a silently dropped answer. */
    static final class Refused extends AssertionError {
        private static final long serialVersionUID = 1L;

        Refused(String what, String mirrors) {
            super("Envoy: " + what + " [" + mirrors + "]");
        }
    }

    /** What Envoy did with an answer. */
    enum Outcome { APPLIED, TIMER_RESTARTED, IGNORED }

    /** Envoy's default {@code message_timeout} (ext_proc.proto). */
    static final Duration DEFAULT_MESSAGE_TIMEOUT = Duration.ofMillis(200);

    final ExternalProcessor config;
    final LongSupplier nanos;
    final EnvoyHeaderRules headerRules;

    EnvoyRules(ExternalProcessor config, LongSupplier nanos) {
        this.config = config;
        this.nanos = nanos;
        this.headerRules = new EnvoyHeaderRules(config.getMutationRules());
    }

    /** The filter of examples/envoy/envoy.yaml. */
    static EnvoyRules example(LongSupplier nanos) {
        try {
            var bootstrap = EnvoyBootstrapFile.parse(Files.readString(EnvoyBootstrapFile.example()));
            var hcm = bootstrap.getStaticResources().getListeners(0).getFilterChains(0).getFilters(0)
                    .getTypedConfig().unpack(HttpConnectionManager.class);
            return new EnvoyRules(hcm.getHttpFilters(0).getTypedConfig().unpack(ExternalProcessor.class), nanos);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The example's filter on a clock that never moves: for a processor in another process or on
     * the system clock, where these tests check the protocol, not the timing.
     */
    static EnvoyRules untimed() {
        return example(() -> 0L);
    }

    /** The same filter with other settings, e.g. {@code r -> r.setProcessingMode(...)}. */
    EnvoyRules with(java.util.function.Consumer<ExternalProcessor.Builder> change) {
        ExternalProcessor.Builder b = config.toBuilder();
        change.accept(b);
        return new EnvoyRules(b.build(), nanos);
    }

    /** What this filter announces in {@code protocol_config} (Filter::encodeProtocolConfig). */
    ProtocolConfiguration announced() {
        return ProtocolConfiguration.newBuilder()
                .setRequestBodyMode(config.getProcessingMode().getRequestBodyMode())
                .setResponseBodyMode(config.getProcessingMode().getResponseBodyMode())
                .setSendBodyWithoutWaitingForHeaderResponse(config.getSendBodyWithoutWaitingForHeaderResponse())
                .build();
    }

    Duration messageTimeout() {
        return config.hasMessageTimeout() ? Duration.ofNanos(Durations.toNanos(config.getMessageTimeout()))
                : DEFAULT_MESSAGE_TIMEOUT;
    }

    /** {@code max_message_timeout}; zero (the default) lets no override through. */
    Duration maxMessageTimeout() {
        return Duration.ofNanos(Durations.toNanos(config.getMaxMessageTimeout()));
    }

    /** A new HTTP stream through this filter. */
    EnvoyFilter filter() {
        return new EnvoyFilter(this);
    }
}
