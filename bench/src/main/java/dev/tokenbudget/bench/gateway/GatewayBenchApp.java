package dev.tokenbudget.bench.gateway;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.cloud.gateway.filter.ratelimit.KeyResolver;
import org.springframework.context.annotation.Bean;
import reactor.core.publisher.Mono;

/**
 * The quickstart's route through Spring Cloud Gateway, in one of five variants chosen by the
 * Spring profile (resources {@code application-<variant>.yaml}), for {@code bench/gateway.sh}:
 * {@code none} (no filter), {@code ratelimiter} (Spring Cloud Gateway's own
 * {@code RequestRateLimiter} on {@code RedisRateLimiter}, limits never reached), {@code memory}
 * (TokenBudget on the in-memory store), {@code redis} (TokenBudget on Redis) and
 * {@code redis-blocks} (TokenBudget on Redis in token blocks). Every variant
 * forwards to the same fake provider ({@code bench.upstream}).
 *
 * <pre>java -cp ... dev.tokenbudget.bench.gateway.GatewayBenchApp --spring.profiles.active=memory
 *     --server.port=8181 --bench.upstream=http://127.0.0.1:8190 [--spring.data.redis.url=redis://...]</pre>
 */
@SpringBootApplication
public class GatewayBenchApp {

    public static void main(String[] args) {
        SpringApplication.run(GatewayBenchApp.class, args);
    }

    /** RequestRateLimiter's key: the caller's credential, as a per-client limiter would use. */
    @Bean
    KeyResolver benchKeyResolver() {
        return exchange -> Mono.justOrEmpty(exchange.getRequest().getHeaders().getFirst("Authorization"))
                .defaultIfEmpty("anonymous");
    }
}
