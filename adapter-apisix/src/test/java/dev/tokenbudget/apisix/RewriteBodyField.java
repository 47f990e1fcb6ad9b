package dev.tokenbudget.apisix;

import com.google.flatbuffers.Table;
import io.github.api7.A6.HTTPReqCall.Resp;

/**
 * Reads the {@code body} of a {@code Rewrite} action (field 4 of {@code A6.HTTPReqCall.Rewrite},
 * a byte vector), which APISIX applies but the A6 0.6.0 Java bindings do not know.
 */
final class RewriteBodyField extends Table {

    /** The vtable offset of field 4: 4 + 2 * 4. */
    private static final int BODY = 12;

    private RewriteBodyField() {
    }

    /** The rewritten body of {@code resp}'s Rewrite action, or null when it sets none. */
    static byte[] of(Resp resp) {
        RewriteBodyField t = (RewriteBodyField) resp.action(new RewriteBodyField());
        int o = t.__offset(BODY);
        if (o == 0) {
            return null;
        }
        int start = t.__vector(o);
        byte[] body = new byte[t.__vector_len(o)];
        for (int i = 0; i < body.length; i++) {
            body[i] = t.bb.get(start + i);
        }
        return body;
    }
}
