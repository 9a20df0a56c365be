package io.portcullis.xds;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.netty.shaded.io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;

class XdsServerBuffersTest {

    @Test
    void connectionsShareOneDirectArenaPerTwoCoresOfTwoMebibyteChunks() {
        PooledByteBufAllocator buffers = XdsServer.connectionBuffers();

        assertThat(buffers.metric().numDirectArenas())
                .isEqualTo(Math.max(1, Runtime.getRuntime().availableProcessors() / 2));
        assertThat(buffers.metric().numHeapArenas()).isZero();
        assertThat(buffers.metric().chunkSize()).isEqualTo(2 * 1024 * 1024);
    }

    @Test
    void aResponseLargerThanAChunkIsStillBuffered() {
        // A wildcard LDS response at 10,000 policies can exceed a chunk; Netty allocates it outside the pool.
        PooledByteBufAllocator buffers = XdsServer.connectionBuffers();
        var buffer = buffers.ioBuffer(3 * 1024 * 1024);
        try {
            buffer.writeZero(3 * 1024 * 1024);
            assertThat(buffer.readableBytes()).isEqualTo(3 * 1024 * 1024);
        } finally {
            buffer.release();
        }
    }
}
