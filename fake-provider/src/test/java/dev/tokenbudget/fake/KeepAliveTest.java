package dev.tokenbudget.fake;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A gateway keeps a pool of connections to its provider and reuses them. If the fake closed a
 * connection the pool still holds, the gateway's next request on it fails while it is being sent
 * (reactor-netty's PrematureCloseException): a failure of the harness, not of what it tests.
 */
class KeepAliveTest {

    /** More than the JDK server keeps idle by default (sun.net.httpserver.maxIdleConnections, 200). */
    private static final int CONNECTIONS = 260;

    private FakeProvider fake;
    private final List<Socket> sockets = new ArrayList<>();

    @BeforeEach
    void start() {
        fake = FakeProvider.start(0);
    }

    @AfterEach
    void stop() throws IOException {
        for (Socket s : sockets) {
            s.close();
        }
        fake.close();
    }

    @Test
    void everyPooledConnectionStaysOpenForItsNextRequest() throws IOException {
        for (int i = 0; i < CONNECTIONS; i++) {
            Socket s = new Socket(InetAddress.getLoopbackAddress(), fake.port());
            s.setSoTimeout(10_000);
            sockets.add(s);
        }
        for (Socket s : sockets) {
            assertThat(tally(s)).as("first answer").startsWith("HTTP/1.1 200");
        }
        // every connection is idle now, as in a gateway's pool after a burst

        int answered = 0;
        for (Socket s : sockets) {
            if (tally(s).startsWith("HTTP/1.1 200")) {
                answered++;
            }
        }
        assertThat(answered).as("connections that answered a second request").isEqualTo(CONNECTIONS);
    }

    /** One keep-alive GET of the tally; the answer's head, or "" when the server closed the connection. */
    private String tally(Socket s) throws IOException {
        try {
            s.getOutputStream().write(("GET " + FakeProvider.TALLY_PATH + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
        } catch (IOException closed) {
            return "";
        }
        InputStream in = s.getInputStream();
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b;
            try {
                b = in.read();
            } catch (IOException reset) {
                return "";
            }
            if (b < 0) {
                return "";
            }
            head.write(b);
            matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        String text = head.toString(StandardCharsets.US_ASCII);
        int length = Integer.parseInt(text.replaceAll("(?si).*content-length:\\s*(\\d+).*", "$1"));
        assertThat(in.readNBytes(length)).hasSize(length);
        return text;
    }
}
