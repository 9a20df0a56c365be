package io.portcullis.debug;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.input.ResourceSnapshot;
import io.portcullis.source.SourceUpdate;
import io.portcullis.xds.EgressControlPlane;
import io.portcullis.xds.SidecarRegistry;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What a Prometheus scrape of /metrics costs the control plane in garbage: the collector pays for it, during
 * whatever config change comes next. On the virtual threads the endpoint used to answer on, the text writer's
 * buffer was copied at nearly every write: megabytes for a body of a few KiB.
 */
class MetricsScrapeGarbageTest {

    private static final int SCRAPES = 20;

    private DebugEndpoint endpoint;

    @AfterEach
    void stop() {
        if (endpoint != null) {
            endpoint.close();
        }
    }

    @Test
    void aScrapeAllocatesAFewTimesItsBodyNotMegabytes() throws Exception {
        EgressControlPlane controlPlane = new EgressControlPlane();
        controlPlane.apply(new SourceUpdate(ResourceSnapshot.EMPTY, List.of()));
        endpoint = new DebugEndpoint(
                new InetSocketAddress("127.0.0.1", 0),
                controlPlane,
                new SidecarRegistry(controlPlane, Clock.systemUTC()));
        endpoint.start();
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        int body = scrape().length;
        scrape(); // the handler's classes loaded and its thread started before measuring

        long before = threads.getTotalThreadAllocatedBytes();
        for (int i = 0; i < SCRAPES; i++) {
            scrape();
        }
        long perScrape = (threads.getTotalThreadAllocatedBytes() - before) / SCRAPES;

        assertThat(body).as("the scrape's body").isGreaterThan(1000);
        // The rest of a request (the HTTP exchange, this test's socket) is some tens of KiB.
        assertThat(perScrape)
                .as("bytes allocated per scrape of a %d-byte body", body)
                .isLessThan(256L * 1024);
    }

    /** One GET /metrics over a plain socket (a small client: its own allocations are counted too). */
    private byte[] scrape() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", endpoint.address().getPort())) {
            OutputStream out = socket.getOutputStream();
            out.write("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            byte[] response = in.readAllBytes();
            assertThat(new String(response, 0, 12, StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 200");
            return response;
        }
    }
}
