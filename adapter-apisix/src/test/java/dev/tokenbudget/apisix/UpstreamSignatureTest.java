package dev.tokenbudget.apisix;

import dev.tokenbudget.config.ConfigException;
import org.junit.jupiter.api.Test;

import java.net.URI;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The path a signature covers is the one nginx sends: APISIX escapes a rewritten path with
 * {@code ngx_escape_uri(NGX_ESCAPE_URI)} (ext-plugin/init.lua, core.utils.uri_safe_encode), and the
 * runner gets the decoded path; and a route conf's {@code upstream} is a bare origin.
 */
class UpstreamSignatureTest {

    @Test
    void theRewrittenPathIsSignedAsNginxEscapesIt() {
        assertThat(UpstreamSignature.nginxEscaped("/model/us.anthropic.claude-haiku-4-5-20251001-v1:0/converse"))
                .isEqualTo("/model/us.anthropic.claude-haiku-4-5-20251001-v1:0/converse");
        assertThat(UpstreamSignature.nginxEscaped("/a b/%/?#/é")).isEqualTo("/a%20b/%25/%3F%23/%C3%A9");
    }

    @Test
    void anEncodedModelIdIsDecodedBeforeAPISIXEncodesItAgain() {
        assertThat(UpstreamSignature.percentDecoded("/model/us.anthropic.claude-haiku-4-5-20251001-v1%3A0/converse"))
                .isEqualTo("/model/us.anthropic.claude-haiku-4-5-20251001-v1:0/converse");
        assertThat(UpstreamSignature.percentDecoded("/a%2/b+c%zz")).isEqualTo("/a%2/b+c%zz");
        String odd = "/m/x:1 é";
        assertThat(UpstreamSignature.percentDecoded(UpstreamSignature.nginxEscaped(odd))).isEqualTo(odd);
    }

    @Test
    void theUpstreamIsAnOriginOrRefusedByName() {
        RouteConf ok = RouteConf.parse("{\"config\":\"/etc/tb.yaml\",\"upstream\":\"https://bedrock-runtime.us-east-1.amazonaws.com/\"}");
        assertThat(ok.upstream()).isEqualTo(URI.create("https://bedrock-runtime.us-east-1.amazonaws.com"));
        assertThat(RouteConf.parse("{\"config\":\"/etc/tb.yaml\",\"upstream\":\"https://127.0.0.1:8443\"}").upstream())
                .isEqualTo(URI.create("https://127.0.0.1:8443"));
        for (String bad : new String[] {"\"bedrock-runtime.us-east-1.amazonaws.com\"", "\"https://h/model\"",
                "\"ftp://h\"", "\"https://h?x=1\"", "7"}) {
            assertThatThrownBy(() -> RouteConf.parse("{\"config\":\"/etc/tb.yaml\",\"upstream\":" + bad + "}"))
                    .isInstanceOf(ConfigException.class).hasMessageContaining("upstream");
        }
    }
}
