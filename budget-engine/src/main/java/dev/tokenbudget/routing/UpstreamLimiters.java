package dev.tokenbudget.routing;

import dev.tokenbudget.time.BudgetClock;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;

/** The upstream quotas of a config, found by provider and model; the first match wins. */
public final class UpstreamLimiters {

    private final List<UpstreamSpec> specs;
    private final List<UpstreamLimiter> limiters = new ArrayList<>();

    public UpstreamLimiters(List<UpstreamSpec> specs, BudgetClock clock, ScheduledExecutorService timer) {
        this.specs = List.copyOf(specs);
        for (UpstreamSpec s : specs) {
            limiters.add(new UpstreamLimiter(s.name(), s.limits(), s.maxWait(), s.weights(), clock, timer));
        }
    }

    public Optional<UpstreamLimiter> forRequest(String provider, String model) {
        for (int i = 0; i < specs.size(); i++) {
            if (specs.get(i).matches(provider, model)) {
                return Optional.of(limiters.get(i));
            }
        }
        return Optional.empty();
    }

    public List<UpstreamLimiter> all() {
        return List.copyOf(limiters);
    }
}
