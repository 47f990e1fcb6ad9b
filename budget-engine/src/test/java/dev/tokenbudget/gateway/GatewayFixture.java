package dev.tokenbudget.gateway;

import dev.tokenbudget.engine.EngineFixture;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/** A gateway over an engine on a manual clock, with a config covering the gateway's cases. */
final class GatewayFixture {

    static final String MAIN = "sk-tb-main";
    static final String TIGHT = "sk-tb-tight";
    static final String CHEAP = "sk-tb-cheap";
    static final String UPSTREAM_OPENAI = "sk-upstream-openai";
    static final String UPSTREAM_ANTHROPIC = "sk-ant-upstream";
    static final String SUPPORT_PROMPT = "You are Acme's support assistant. Answer fully and cite the knowledge base.";
    static final String SUPPORT_SHORT = "You are Acme's support assistant. Be brief.";

    static final String YAML = """
            providers:
              openai: { api_key_env: TB_OPENAI }
              anthropic: { api_key_env: TB_ANTHROPIC }
            defaults:
              output_tokens: 1000
            budgets:
              - id: org
                windows: [{ period: month, limits: { total: 10M } }]
              - id: copilot
                parent: org
                windows: [{ period: month, limits: { total: 1M } }]
              - id: tight
                parent: org
                windows: [{ period: day, limits: { total: 5000 } }]
                thresholds: [{ at: 100, policy: hard_stop }]
              - id: cheap
                parent: org
                windows: [{ period: day, limits: { total: 10000 } }]
                thresholds: [{ at: 50, policy: degrade_route }]
                degrade:
                  models: { gpt-4.1: gpt-4.1-mini, gemini-2.5-pro: gemini-2.5-flash, claude-opus-4-1: claude-haiku-4-5 }
                  max_output_tokens: 256
                  prompt_variants: { support: support-short }
            keys:
              - { name: main, sha256: %s, budget: org, features: [copilot] }
              - { name: tight, sha256: %s, budget: tight }
              - { name: cheap, sha256: %s, budget: cheap }
            """.formatted(EngineFixture.sha(MAIN), EngineFixture.sha(TIGHT), EngineFixture.sha(CHEAP));

    final EngineFixture engine = new EngineFixture(YAML);
    final BudgetGateway gateway;

    GatewayFixture() {
        this(GatewayOptions.custom());
    }

    GatewayFixture(GatewayOptions.Builder options) {
        gateway = new BudgetGateway(engine.engine, options
                .environment(Map.of("TB_OPENAI", UPSTREAM_OPENAI, "TB_ANTHROPIC", UPSTREAM_ANTHROPIC)::get)
                .prompt("support", SUPPORT_PROMPT)
                .prompt("support-short", SUPPORT_SHORT)
                .build());
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

    long used(String budget) {
        return engine.usedTotal(budget);
    }

    long reserved(String budget) {
        return engine.reservedTotal(budget);
    }
}
