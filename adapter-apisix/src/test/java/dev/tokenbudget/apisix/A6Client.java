package dev.tokenbudget.apisix;

import com.google.flatbuffers.FlatBufferBuilder;
import io.github.api7.A6.ExtraInfo.Info;
import io.github.api7.A6.HTTPReqCall.Action;
import io.github.api7.A6.HTTPReqCall.Rewrite;
import io.github.api7.A6.HTTPReqCall.Stop;
import io.github.api7.A6.TextEntry;

import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The plugin runner's client side, speaking the protocol exactly as APISIX's
 * {@code apisix/plugins/ext-plugin/init.lua} does: frames of one type byte, a 3-byte big-endian
 * length and a flatbuffer from {@code io.github.api7:A6}; prepare-conf on its own connection,
 * HTTP calls on a kept-alive connection, extra-info requests answered in a loop until the call's
 * answer arrives.
 */
final class A6Client implements AutoCloseable {

    static final byte RPC_ERROR = 0;
    static final byte RPC_PREPARE_CONF = 1;
    static final byte RPC_HTTP_REQ_CALL = 2;
    static final byte RPC_EXTRA_INFO = 3;
    static final byte RPC_HTTP_RESP_CALL = 4;

    private final Path socket;
    private SocketChannel pooled;
    private int count;

    A6Client(Path socket) {
        this.socket = socket;
    }

    /** An HTTP request as APISIX describes it to the runner. */
    record Request(String method, String path, Map<String, String> headers, Map<String, String> args,
                   Map<String, String> vars, byte[] body) {
    }

    /**
     * The runner's answer to an HTTP request call; {@code body} is a Stop's reply body, or a
     * Rewrite's new request body (null when unchanged).
     */
    record ReqCallAnswer(byte action, int status, Map<String, List<String>> stopHeaders, byte[] body,
                         Map<String, String> rewriteHeaders, String rewritePath, Map<String, String> rewriteArgs,
                         List<Byte> infosAsked, Integer errorCode) {

        boolean stopped() {
            return action == Action.Stop;
        }

        String bodyText() {
            return body == null ? null : new String(body, StandardCharsets.UTF_8);
        }

        String stopHeader(String name) {
            List<String> v = stopHeaders.get(name);
            return v == null || v.isEmpty() ? null : v.get(0);
        }
    }

    /** The runner's answer to an HTTP response call. */
    record RespCallAnswer(int status, Map<String, String> headers, byte[] body, List<Byte> infosAsked,
                          Integer errorCode) {
    }

    /** The upstream response APISIX's ext-plugin-post-resp fetched (only to check TokenBudget ignores that phase). */
    record UpstreamResponse(int status, Map<String, String> headers, byte[] body) {
    }

    /**
     * Sends a prepare-conf and returns the conf token. APISIX reads one answer and puts the
     * connection back in its keepalive pool; the runner writes the answer twice, and OpenResty
     * drops an idle pooled connection that has unread bytes, so the connection is closed here.
     */
    long prepareConf(String key, List<Map.Entry<String, String>> conf) throws IOException {
        FlatBufferBuilder b = new FlatBufferBuilder();
        int keyOff = b.createString(key);
        int[] entries = new int[conf.size()];
        for (int i = 0; i < conf.size(); i++) {
            entries[i] = textEntry(b, conf.get(i).getKey(), conf.get(i).getValue());
        }
        int vec = io.github.api7.A6.PrepareConf.Req.createConfVector(b, entries);
        io.github.api7.A6.PrepareConf.Req.startReq(b);
        io.github.api7.A6.PrepareConf.Req.addKey(b, keyOff);
        io.github.api7.A6.PrepareConf.Req.addConf(b, vec);
        b.finish(io.github.api7.A6.PrepareConf.Req.endReq(b));
        try (SocketChannel ch = connect()) {
            send(ch, RPC_PREPARE_CONF, b.sizedByteArray());
            Frame f = receive(ch);
            if (f.type != RPC_PREPARE_CONF) {
                throw new IOException("failed to receive RPC_PREPARE_CONF: unexpected type " + f.type);
            }
            return io.github.api7.A6.PrepareConf.Resp.getRootAsResp(ByteBuffer.wrap(f.data)).confToken();
        }
    }

    /** Sends an HTTP request call (the ext-plugin-pre-req phase) and answers extra-info requests. */
    ReqCallAnswer httpReqCall(long token, Request r) throws IOException {
        FlatBufferBuilder b = new FlatBufferBuilder();
        int path = b.createString(r.path());
        int src = io.github.api7.A6.HTTPReqCall.Req.createSrcIpVector(b, new byte[] {127, 0, 0, 1});
        int args = io.github.api7.A6.HTTPReqCall.Req.createArgsVector(b, entries(b, r.args()));
        int headers = io.github.api7.A6.HTTPReqCall.Req.createHeadersVector(b, entries(b, r.headers()));
        io.github.api7.A6.HTTPReqCall.Req.startReq(b);
        io.github.api7.A6.HTTPReqCall.Req.addId(b, nextId());
        io.github.api7.A6.HTTPReqCall.Req.addConfToken(b, token);
        io.github.api7.A6.HTTPReqCall.Req.addSrcIp(b, src);
        io.github.api7.A6.HTTPReqCall.Req.addPath(b, path);
        io.github.api7.A6.HTTPReqCall.Req.addArgs(b, args);
        io.github.api7.A6.HTTPReqCall.Req.addHeaders(b, headers);
        io.github.api7.A6.HTTPReqCall.Req.addMethod(b, method(r.method()));
        b.finish(io.github.api7.A6.HTTPReqCall.Req.endReq(b));

        SocketChannel ch = pooled();
        List<Byte> asked = new ArrayList<>();
        Frame f = call(ch, RPC_HTTP_REQ_CALL, b.sizedByteArray(), r, null, asked);
        if (f.type == RPC_ERROR) {
            return new ReqCallAnswer(Action.NONE, 0, Map.of(), null, Map.of(), null, Map.of(), asked, errorCode(f));
        }
        if (f.type != RPC_HTTP_REQ_CALL) {
            throw new IOException("failed to receive RPC_HTTP_REQ_CALL: unexpected type " + f.type);
        }
        io.github.api7.A6.HTTPReqCall.Resp resp = io.github.api7.A6.HTTPReqCall.Resp.getRootAsResp(
                ByteBuffer.wrap(f.data));
        if (resp.actionType() == Action.Stop) {
            Stop stop = (Stop) resp.action(new Stop());
            Map<String, List<String>> h = new LinkedHashMap<>();
            for (int i = 0; i < stop.headersLength(); i++) {
                TextEntry e = stop.headers(i);
                // APISIX lower-cases the names of a Stop's headers
                h.computeIfAbsent(e.name().toLowerCase(java.util.Locale.ROOT), k -> new ArrayList<>()).add(e.value());
            }
            byte[] body = new byte[stop.bodyLength()];
            for (int i = 0; i < body.length; i++) {
                body[i] = (byte) stop.body(i);
            }
            int status = stop.status() == 0 ? 200 : stop.status();
            return new ReqCallAnswer(Action.Stop, status, h, body, Map.of(), null, Map.of(), asked, null);
        }
        if (resp.actionType() == Action.Rewrite) {
            Rewrite rw = (Rewrite) resp.action(new Rewrite());
            Map<String, String> h = new LinkedHashMap<>();
            for (int i = 0; i < rw.headersLength(); i++) {
                TextEntry e = rw.headers(i);
                h.put(e.name(), e.value());
            }
            Map<String, String> rwArgs = new LinkedHashMap<>();
            for (int i = 0; i < rw.argsLength(); i++) {
                TextEntry e = rw.args(i);
                rwArgs.put(e.name(), e.value());
            }
            // a Rewrite's body is the request body APISIX sends upstream instead of the client's
            return new ReqCallAnswer(Action.Rewrite, 0, Map.of(), RewriteBodyField.of(resp), h, rw.path(), rwArgs, asked,
                    null);
        }
        return new ReqCallAnswer(resp.actionType(), 0, Map.of(), null, Map.of(), null, Map.of(), asked, null);
    }

    /** Sends an HTTP response call (the ext-plugin-post-resp phase) and answers extra-info requests. */
    RespCallAnswer httpRespCall(long token, Request r, UpstreamResponse upstream) throws IOException {
        FlatBufferBuilder b = new FlatBufferBuilder();
        int headers = io.github.api7.A6.HTTPRespCall.Req.createHeadersVector(b, entries(b, upstream.headers()));
        io.github.api7.A6.HTTPRespCall.Req.startReq(b);
        io.github.api7.A6.HTTPRespCall.Req.addId(b, nextId());
        io.github.api7.A6.HTTPRespCall.Req.addStatus(b, upstream.status());
        io.github.api7.A6.HTTPRespCall.Req.addConfToken(b, token);
        io.github.api7.A6.HTTPRespCall.Req.addHeaders(b, headers);
        b.finish(io.github.api7.A6.HTTPRespCall.Req.endReq(b));

        SocketChannel ch = pooled();
        List<Byte> asked = new ArrayList<>();
        Frame f = call(ch, RPC_HTTP_RESP_CALL, b.sizedByteArray(), r, upstream.body(), asked);
        if (f.type == RPC_ERROR) {
            return new RespCallAnswer(0, Map.of(), null, asked, errorCode(f));
        }
        if (f.type != RPC_HTTP_RESP_CALL) {
            throw new IOException("failed to receive RPC_HTTP_RESP_CALL: unexpected type " + f.type);
        }
        io.github.api7.A6.HTTPRespCall.Resp resp = io.github.api7.A6.HTTPRespCall.Resp.getRootAsResp(
                ByteBuffer.wrap(f.data));
        Map<String, String> h = new LinkedHashMap<>();
        for (int i = 0; i < resp.headersLength(); i++) {
            TextEntry e = resp.headers(i);
            h.put(e.name().toLowerCase(java.util.Locale.ROOT), e.value());
        }
        byte[] body = null;
        if (resp.bodyLength() > 0) {
            body = new byte[resp.bodyLength()];
            for (int i = 0; i < body.length; i++) {
                body[i] = (byte) resp.body(i);
            }
        }
        return new RespCallAnswer(resp.status(), h, body, asked, null);
    }

    /** Sends a call, answers the runner's extra-info requests as APISIX does, returns the final frame. */
    private static Frame call(SocketChannel ch, byte type, byte[] payload, Request r, byte[] respBody,
                              List<Byte> asked) throws IOException {
        send(ch, type, payload);
        while (true) {
            Frame f = receive(ch);
            if (f.type != RPC_EXTRA_INFO) {
                return f;
            }
            io.github.api7.A6.ExtraInfo.Req req = io.github.api7.A6.ExtraInfo.Req.getRootAsReq(ByteBuffer.wrap(f.data));
            asked.add(req.infoType());
            byte[] result = switch (req.infoType()) {
                case Info.Var -> {
                    io.github.api7.A6.ExtraInfo.Var v = (io.github.api7.A6.ExtraInfo.Var) req.info(
                            new io.github.api7.A6.ExtraInfo.Var());
                    String value = r.vars().get(v.name());
                    yield value == null ? null : value.getBytes(StandardCharsets.UTF_8);
                }
                case Info.ReqBody -> r.body();
                // before the upstream answered APISIX has no response body and sends an empty result
                case Info.RespBody -> respBody;
                default -> throw new IOException("unsupported info type: " + req.infoType());
            };
            FlatBufferBuilder b = new FlatBufferBuilder();
            int vec = result == null ? 0 : io.github.api7.A6.ExtraInfo.Resp.createResultVector(b, result);
            io.github.api7.A6.ExtraInfo.Resp.startResp(b);
            if (result != null) {
                io.github.api7.A6.ExtraInfo.Resp.addResult(b, vec);
            }
            b.finish(io.github.api7.A6.ExtraInfo.Resp.endResp(b));
            send(ch, RPC_EXTRA_INFO, b.sizedByteArray());
        }
    }

    private static int[] entries(FlatBufferBuilder b, Map<String, String> m) {
        int[] out = new int[m.size()];
        int i = 0;
        for (Map.Entry<String, String> e : m.entrySet()) {
            out[i++] = textEntry(b, e.getKey(), e.getValue());
        }
        return out;
    }

    private static int textEntry(FlatBufferBuilder b, String name, String value) {
        int n = b.createString(name);
        int v = b.createString(value);
        TextEntry.startTextEntry(b);
        TextEntry.addName(b, n);
        TextEntry.addValue(b, v);
        return TextEntry.endTextEntry(b);
    }

    private static int method(String m) {
        List<String> names = List.of(io.github.api7.A6.Method.names);
        int i = names.indexOf(m);
        if (i < 0) {
            throw new IllegalArgumentException("no A6 method " + m);
        }
        return i;
    }

    /** APISIX's ids: the worker id in the high bits, a per-worker counter below. */
    private long nextId() {
        return (1L << 22) + count++;
    }

    private static int errorCode(Frame f) {
        return io.github.api7.A6.Err.Resp.getRootAsResp(ByteBuffer.wrap(f.data)).code();
    }

    /** Whether a runner accepts connections on {@code socket} (it is up). */
    static boolean accepts(Path socket) {
        if (!java.nio.file.Files.exists(socket)) {
            return false;
        }
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private SocketChannel pooled() throws IOException {
        if (pooled == null || !pooled.isOpen()) {
            pooled = connect();
        }
        return pooled;
    }

    private SocketChannel connect() throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(socket));
        return ch;
    }

    private record Frame(byte type, byte[] data) {
    }

    private static void send(SocketChannel ch, byte type, byte[] data) throws IOException {
        if (data.length > 0xFFFFFF) {
            throw new IOException("the max length of data is 16777215 but got " + data.length);
        }
        ByteBuffer buf = ByteBuffer.allocate(4 + data.length);
        buf.put(type).put((byte) (data.length >>> 16)).put((byte) (data.length >>> 8)).put((byte) data.length);
        buf.put(data).flip();
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    private static Frame receive(SocketChannel ch) throws IOException {
        ByteBuffer hdr = readFully(ch, 4);
        byte type = hdr.get();
        int len = ((hdr.get() & 0xFF) << 16) | ((hdr.get() & 0xFF) << 8) | (hdr.get() & 0xFF);
        byte[] data = new byte[len];
        readFully(ch, len).get(data);
        return new Frame(type, data);
    }

    private static ByteBuffer readFully(SocketChannel ch, int n) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(n);
        while (buf.hasRemaining()) {
            if (ch.read(buf) < 0) {
                throw new EOFException("runner closed the connection");
            }
        }
        return buf.flip();
    }

    @Override
    public void close() throws IOException {
        if (pooled != null) {
            pooled.close();
        }
    }
}
