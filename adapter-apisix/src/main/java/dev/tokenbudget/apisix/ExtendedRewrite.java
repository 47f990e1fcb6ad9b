package dev.tokenbudget.apisix;

import com.google.flatbuffers.FlatBufferBuilder;
import io.github.api7.A6.HTTPReqCall.Action;
import io.github.api7.A6.HTTPReqCall.Resp;
import io.github.api7.A6.HTTPReqCall.Rewrite;
import io.github.api7.A6.TextEntry;
import org.apache.apisix.plugin.runner.A6Response;
import org.apache.apisix.plugin.runner.HttpResponse;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * A pre-request response as the runner encodes it, with what its {@code HttpResponse} cannot
 * carry added: the {@code Rewrite} table's {@code resp_headers} (field 3) and {@code body}
 * (field 4, a byte vector) of APISIX's {@code A6.HTTPReqCall} schema, which APISIX's
 * {@code ext-plugin} applies with {@code core.response.set_header} and
 * {@code ngx.req.set_body_data} (APISIX 3.9.1). The runner's own encoding is read back with the
 * schema's Java bindings and written anew with the two fields, so whatever it set (path, request
 * headers, arguments) goes out unchanged. A {@code Stop} (a rejection) is sent as it is.
 */
final class ExtendedRewrite implements A6Response {

    /** Slots of the {@code Rewrite} table: path, headers, args, resp_headers, body. */
    private static final int REWRITE_FIELDS = 5;
    private static final int BODY_FIELD = 4;

    private final HttpResponse response;
    private final RewriteExtras.Extra extra;

    ExtendedRewrite(HttpResponse response, RewriteExtras.Extra extra) {
        this.response = response;
        this.extra = extra;
    }

    @Override
    public ByteBuffer encode() {
        ByteBuffer base = response.encode();
        Resp resp = Resp.getRootAsResp(base.duplicate());
        if (resp.actionType() == Action.Stop) {
            return base;
        }
        Rewrite old = resp.actionType() == Action.Rewrite ? (Rewrite) resp.action(new Rewrite()) : null;
        byte[] body = extra.body();
        FlatBufferBuilder b = new FlatBufferBuilder(1024 + (body == null ? 0 : body.length));
        int path = old == null || old.path() == null ? 0 : b.createString(old.path());
        int headers = old == null ? 0 : copied(b, old.headersLength(), old::headers);
        int args = old == null ? 0 : copied(b, old.argsLength(), old::args);
        int respHeaders = responseHeaders(b, old);
        int bodyVector = body == null || body.length == 0 ? 0 : b.createByteVector(body);

        b.startTable(REWRITE_FIELDS);
        Rewrite.addPath(b, path);
        Rewrite.addHeaders(b, headers);
        Rewrite.addArgs(b, args);
        Rewrite.addRespHeaders(b, respHeaders);
        b.addOffset(BODY_FIELD, bodyVector, 0);
        int rewrite = b.endTable();

        Resp.startResp(b);
        Resp.addAction(b, rewrite);
        Resp.addActionType(b, Action.Rewrite);
        Resp.addId(b, resp.id());
        b.finish(Resp.endResp(b));
        return b.dataBuffer();
    }

    @Override
    public byte getType() {
        return response.getType();
    }

    /** The runner's entries (none in 0.4.0) and then the extras'; 0 when there are none. */
    private int responseHeaders(FlatBufferBuilder b, Rewrite old) {
        int kept = old == null ? 0 : old.respHeadersLength();
        Map<String, String> added = extra.responseHeaders();
        if (kept + added.size() == 0) {
            return 0;
        }
        int[] entries = new int[kept + added.size()];
        for (int i = 0; i < kept; i++) {
            entries[i] = copy(b, old.respHeaders(i));
        }
        int i = kept;
        for (Map.Entry<String, String> e : added.entrySet()) {
            entries[i++] = entry(b, e.getKey(), e.getValue());
        }
        return Rewrite.createRespHeadersVector(b, entries);
    }

    private static int copied(FlatBufferBuilder b, int n, IntFunction<TextEntry> at) {
        if (n == 0) {
            return 0;
        }
        int[] entries = new int[n];
        for (int i = 0; i < n; i++) {
            entries[i] = copy(b, at.apply(i));
        }
        // the three TextEntry vectors share one layout: any of their create methods builds it
        return Rewrite.createHeadersVector(b, entries);
    }

    private static int copy(FlatBufferBuilder b, TextEntry e) {
        return entry(b, e.name(), e.value());
    }

    /** A name and value; a null value (absent) tells APISIX to remove the header or argument. */
    private static int entry(FlatBufferBuilder b, String name, String value) {
        int n = b.createString(name);
        int v = value == null ? 0 : b.createString(value);
        return TextEntry.createTextEntry(b, n, v);
    }
}
