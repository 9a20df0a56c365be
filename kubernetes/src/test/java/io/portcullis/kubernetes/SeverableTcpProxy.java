package io.portcullis.kubernetes;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay between a client and the API server that a test can cut: {@link #sever()} closes every
 * relayed connection and refuses new ones until {@link #restore()}. It breaks only the watches of the
 * client under test, while the test keeps changing objects through its own connection: the "changes
 * while the watch is broken" an API server cannot stage by itself. TLS passes through untouched.
 */
final class SeverableTcpProxy implements AutoCloseable {

    private final ServerSocket server;
    private final InetSocketAddress upstream;
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private volatile boolean severed;
    private final Thread acceptor;

    SeverableTcpProxy(InetSocketAddress upstream) throws IOException {
        this.upstream = upstream;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.acceptor = Thread.ofPlatform().name("proxy-accept").daemon().start(this::accept);
    }

    int port() {
        return server.getLocalPort();
    }

    /** Closes every relayed connection now and refuses new ones (they are accepted and closed at once). */
    void sever() {
        severed = true;
        open.forEach(SeverableTcpProxy::closeQuietly);
        open.clear();
    }

    void restore() {
        severed = false;
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                if (severed) {
                    closeQuietly(client);
                    continue;
                }
                Socket target = new Socket(upstream.getAddress(), upstream.getPort());
                open.add(client);
                open.add(target);
                relay(client, target);
                relay(target, client);
            } catch (IOException e) {
                // closed, or the upstream refused: the client sees its connection closed and retries
            }
        }
    }

    private void relay(Socket from, Socket to) {
        Thread.ofPlatform().daemon().start(() -> {
            byte[] buffer = new byte[16384];
            try (InputStream in = from.getInputStream();
                    OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // one side closed
            } finally {
                closeQuietly(from);
                closeQuietly(to);
                open.remove(from);
                open.remove(to);
            }
        });
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public void close() {
        sever();
        try {
            server.close();
        } catch (IOException e) {
            // already closed
        }
        acceptor.interrupt();
    }
}
