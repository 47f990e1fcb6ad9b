package dev.tokenbudget.quickstart;

import dev.tokenbudget.fake.FakeProvider;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

import java.util.HashMap;
import java.util.Map;

/**
 * Resolves the quickstart's upstreams before the gateway reads its routes: {@code
 * quickstart.openai-url} and {@code quickstart.anthropic-url} are real URLs, or {@code fake} for
 * the bundled fake provider, which is then started in this process on a loopback port and given a
 * placeholder upstream key (a real {@code OPENAI_API_KEY} / {@code ANTHROPIC_API_KEY} is only
 * needed for a real provider).
 */
public final class FakeUpstreams implements ApplicationContextInitializer<ConfigurableApplicationContext> {

    static final String FAKE = "fake";

    /** Placeholder upstream key sent to the fake provider, which accepts any. */
    static final String FAKE_UPSTREAM_KEY = "fake-upstream-key";

    @Override
    public void initialize(ConfigurableApplicationContext context) {
        ConfigurableEnvironment env = context.getEnvironment();
        String openai = env.getProperty("quickstart.openai-url", FAKE).trim();
        String anthropic = env.getProperty("quickstart.anthropic-url", FAKE).trim();
        Map<String, Object> resolved = new HashMap<>();
        Map<String, Object> fallbacks = new HashMap<>();
        String fakeUrl = null;
        if (openai.equals(FAKE) || anthropic.equals(FAKE)) {
            FakeProvider fake = FakeProvider.start(env.getProperty("quickstart.fake-provider.port", Integer.class, 0))
                    .replyTokens(env.getProperty("quickstart.fake-provider.reply-tokens", Integer.class,
                            FakeProvider.DEFAULT_REPLY_TOKENS))
                    .tokensPerChunk(4);
            context.getBeanFactory().registerSingleton("quickstartFakeProvider", fake);
            context.addApplicationListener(e -> {
                if (e instanceof ContextClosedEvent) {
                    fake.close();
                }
            });
            fakeUrl = fake.baseUrl();
            resolved.put("quickstart.fake-provider.url", fakeUrl);
        }
        String openaiUrl = openai.equals(FAKE) ? fakeUrl : openai;
        resolved.put("quickstart.upstream.openai", openaiUrl);
        resolved.put("quickstart.upstream.anthropic", anthropic.equals(FAKE) ? fakeUrl : anthropic);
        resolved.put("quickstart.upstream.economy", env.getProperty("quickstart.economy-url", openaiUrl));
        if (openai.equals(FAKE)) {
            fallbacks.put("OPENAI_API_KEY", FAKE_UPSTREAM_KEY);
        }
        if (anthropic.equals(FAKE)) {
            fallbacks.put("ANTHROPIC_API_KEY", FAKE_UPSTREAM_KEY);
        }
        env.getPropertySources().addFirst(new MapPropertySource("quickstartUpstreams", resolved));
        // last: a key the user did export still wins
        env.getPropertySources().addLast(new MapPropertySource("quickstartFakeKeys", fallbacks));
    }
}
