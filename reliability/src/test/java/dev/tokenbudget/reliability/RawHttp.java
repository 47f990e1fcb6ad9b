package dev.tokenbudget.reliability;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * HTTP/1.1 over a plain socket, for what a well-behaved client library will not send: bodies
 * dripped or abandoned half-way, never-ending chunked bodies, header bytes outside ASCII.
 */
final class RawHttp implements AutoCloseable {

    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;

    private RawHttp(Socket socket) throws IOException {
        this.socket = socket;
        socket.setSoTimeout(60_000);
        this.out = socket.getOutputStream();
        this.in = socket.getInputStream();
    }

    static RawHttp connect(int port) throws IOException {
        return new RawHttp(new Socket(InetAddress.getLoopbackAddress(), port));
    }

    /** Writes and flushes (ISO-8859-1 for header bytes, so any byte can be sent). */
    RawHttp send(String text) throws IOException {
        return send(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    RawHttp send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        return this;
    }

    /** True when response bytes are waiting (the server answered before the request ended). */
    boolean answered() throws IOException {
        return in.available() > 0;
    }

    /**
     * One response exactly as it came over the wire: the bytes of its head (status line and
     * header lines up to the blank line, nothing normalised) and the response parsed from them.
     */
    record Exact(byte[] head, Http.Response response) {

        /** The head as text, one char per byte (ISO-8859-1). */
        String headText() {
            return new String(head, StandardCharsets.ISO_8859_1);
        }
    }

    /** Reads one response: status line, headers, and a body by content-length, chunks or until close. */
    Http.Response read() throws IOException {
        return readExact().response();
    }

    /** Reads one response and keeps the bytes of its head as sent (up to 256 KiB of head). */
    Exact readExact() throws IOException {
        return readExact(true);
    }

    /** Reads the head of a response that has no body whatever its headers say (an answer to HEAD). */
    Http.Response readHeadOnly() throws IOException {
        return readExact(false).response();
    }

    private Exact readExact(boolean withBody) throws IOException {
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        int last = 0;
        for (int c = in.read(); ; c = in.read()) {
            if (c < 0) {
                throw new IOException("connection closed in the response head: "
                        + raw.toString(StandardCharsets.ISO_8859_1));
            }
            raw.write(c);
            // the head ends at CRLF CRLF; a bare LF LF also ends it for a lenient reader
            last = (last << 8) | c;
            if (last == 0x0D0A0D0A || (last & 0xFFFF) == 0x0A0A) {
                break;
            }
            if (raw.size() > 256 * 1024) {
                throw new IOException("response head longer than 256 KiB");
            }
        }
        byte[] head = raw.toByteArray();
        String[] lines = new String(head, StandardCharsets.ISO_8859_1).split("\n");
        String status = lines[0].replace("\r", "");
        Map<String, String> headers = new TreeMap<>();
        for (int i = 1; i < lines.length; i++) {
            String l = lines[i].replace("\r", "");
            int c = l.indexOf(':');
            if (c > 0) {
                headers.putIfAbsent(l.substring(0, c).trim().toLowerCase(Locale.ROOT), l.substring(c + 1).trim());
            }
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        if (!withBody) {
            // nothing to read
        } else if (headers.containsKey("content-length")) {
            body.write(in.readNBytes(Integer.parseInt(headers.get("content-length"))));
        } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            for (int size = Integer.parseInt(line().trim(), 16); size > 0; size = Integer.parseInt(line().trim(), 16)) {
                body.write(in.readNBytes(size));
                line();
            }
            line();
        } else {
            body.write(in.readAllBytes());
        }
        return new Exact(head, new Http.Response(Integer.parseInt(status.split(" ")[1]), headers,
                body.toString(StandardCharsets.UTF_8)));
    }

    private String line() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            if (c != '\r') {
                b.write(c);
            }
        }
        if (c < 0 && b.size() == 0) {
            throw new IOException("connection closed before a response line");
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
