package dev.tokenbudget.gateway;

import dev.tokenbudget.engine.EngineFixture;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * A gateway over an engine on a manual clock, with a config covering the gateway's cases: an
 * organisation whose {@link #MAIN} key charges its {@code copilot} feature, a small hard-stop
 * budget ({@link #TIGHT}), and one that degrades from half its day ({@link #CHEAP}) to cheaper
 * models, a clamped ceiling, the {@code economy} route and a concise variant of the support
 * prompt. The adapters' tests put their servers in front of the same gateway.
 */
public final class GatewayFixture {

    public static final String MAIN = "sk-tb-main";
    public static final String TIGHT = "sk-tb-tight";
    public static final String CHEAP = "sk-tb-cheap";
    public static final String UPSTREAM_OPENAI = "sk-upstream-openai";
    public static final String UPSTREAM_ANTHROPIC = "sk-ant-upstream";
    /** A Bedrock API key (sent as a bearer token) and a Vertex access token, as upstream credentials. */
    public static final String UPSTREAM_BEDROCK = "ABSKbedrock-upstream";
    public static final String UPSTREAM_VERTEX = "ya29.vertex-upstream";
    public static final String SUPPORT_PROMPT = "You are the Acme support copilot. Answer in two sentences at most.";
    public static final String SUPPORT_SHORT = "You are the Acme support copilot. One sentence.";

    public static final String YAML = """
            providers:
              openai: { api_key_env: TB_OPENAI }
              anthropic: { api_key_env: TB_ANTHROPIC }
              bedrock: { api_key_env: TB_BEDROCK }
              vertex: { api_key_env: TB_VERTEX }
            defaults:
              output_tokens: 1000
            budgets:
              - id: org
                windows: [{ period: month, limits: { total: 100M } }]
              - id: copilot
                parent: org
                windows: [{ period: month, limits: { total: 50M } }]
              - id: tight
                parent: org
                windows: [{ period: day, limits: { total: 5000 } }]
                thresholds: [{ at: 100, policy: hard_stop }]
              - id: cheap
                parent: org
                windows: [{ period: day, limits: { total: 10000 } }]
                thresholds: [{ at: 50, policy: degrade_route }]
                degrade:
                  models: { gpt-4.1: gpt-4.1-mini, gemini-2.5-pro: gemini-2.5-flash, claude-opus-4-1: claude-haiku-4-5,
                            claude-opus-4-7: claude-haiku-4-5,
                            "us.anthropic.claude-opus-4-7-v1:0": "us.anthropic.claude-haiku-4-5-20251001-v1:0" }
                  max_output_tokens: 256
                  route: economy
                  prompt_variants: { support: support-short }
            keys:
              - { name: main, sha256: %s, budget: org, features: [copilot], default_feature: copilot }
              - { name: tight, sha256: %s, budget: tight }
              - { name: cheap, sha256: %s, budget: cheap }
            """.formatted(EngineFixture.sha(MAIN), EngineFixture.sha(TIGHT), EngineFixture.sha(CHEAP));

    /** The config's {@code prompts:}, for a host that registers no prompts of its own (Envoy, APISIX). */
    private static final String PROMPTS = """
            prompts:
              support: "%s"
              support-short: "%s"
            """.formatted(SUPPORT_PROMPT, SUPPORT_SHORT);

    public final EngineFixture engine;
    public final BudgetGateway gateway;

    /** The prompts registered by the host ({@link GatewayOptions.Builder#prompt}), as the Spring adapter does. */
    GatewayFixture() {
        this(GatewayOptions.custom());
    }

    GatewayFixture(GatewayOptions.Builder options) {
        this(YAML, options.prompt("support", SUPPORT_PROMPT).prompt("support-short", SUPPORT_SHORT));
    }

    private GatewayFixture(String yaml, GatewayOptions.Builder options) {
        engine = new EngineFixture(yaml);
        gateway = new BudgetGateway(engine.engine, options.environment(Map.of("TB_OPENAI", UPSTREAM_OPENAI,
                "TB_ANTHROPIC", UPSTREAM_ANTHROPIC, "TB_BEDROCK", UPSTREAM_BEDROCK, "TB_VERTEX", UPSTREAM_VERTEX)::get).build());
    }

    /** The same budgets with the prompts registered in the config's {@code prompts:} instead. */
    public static GatewayFixture promptsInTheConfig() {
        return new GatewayFixture(PROMPTS + YAML, GatewayOptions.custom());
    }

    Identified identify(TestRequest r) {
        Identification i = gateway.identify(r);
        if (i instanceof Identified id) {
            return id;
        }
        throw new AssertionError("not identified: " + ((Reply) i).status() + " " + ((Reply) i).bodyText());
    }

    Forward forward(TestRequest r, String body) {
        Admission a = gateway.admit(identify(r), body.getBytes(StandardCharsets.UTF_8));
        if (a instanceof Forward f) {
            return f;
        }
        throw new AssertionError("not forwarded: " + ((Reply) a).status() + " " + ((Reply) a).bodyText());
    }

    Reply reply(TestRequest r, String body) {
        Identification i = gateway.identify(r);
        if (i instanceof Reply rep) {
            return rep;
        }
        Admission a = gateway.admit((Identified) i, body == null ? null : body.getBytes(StandardCharsets.UTF_8));
        if (a instanceof Reply rep) {
            return rep;
        }
        throw new AssertionError("forwarded, expected a reply");
    }

    /** Feeds a whole response through a meter in pieces of {@code piece} bytes and completes it. */
    static MeterResult respond(Forward f, int status, String contentType, byte[] body, int piece) {
        ResponseMeter m = f.meter();
        m.onResponseHeaders(status, contentType);
        for (int i = 0; i < body.length; i += piece) {
            m.onBytes(body, i, Math.min(piece, body.length - i));
        }
        return m.complete();
    }

    public long used(String budget) {
        return engine.usedTotal(budget);
    }

    public long reserved(String budget) {
        return engine.reservedTotal(budget);
    }
}
