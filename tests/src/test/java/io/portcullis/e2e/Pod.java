package io.portcullis.e2e;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A workload: a network namespace whose outbound TCP iptables sends to its Envoy sidecar. Clients run
 * inside it as root, like the curl container of the guide.
 */
record Pod(String netns, String namespace, String serviceAccount, String podName, Path caCertificate) {

    String identity() {
        return namespace + "/" + serviceAccount;
    }

    /** Its sidecar's node id, as {@code portcullis bootstrap} writes it and /debug/sidecars lists it. */
    String sidecarNodeId() {
        return "sidecar~" + namespace + "~" + serviceAccount + "~" + podName;
    }

    /** Runs curl as in the guide; extra args such as {@code --resolve} or {@code -H} come first. */
    CurlResult curl(String url, String... extraArgs) {
        List<String> command = new ArrayList<>(List.of(
                "ip",
                "netns",
                "exec",
                netns,
                "curl",
                "-sS",
                "--max-time",
                "4",
                "--cacert",
                caCertificate.toString(),
                "-o",
                "-",
                "-w",
                "\n%{http_code}"));
        command.addAll(List.of(extraArgs));
        command.add(url);
        ProcessRun run = ProcessRun.run(Duration.ofSeconds(20), null, command);
        String out = run.stdout();
        int split = out.lastIndexOf('\n');
        int status = split < 0 ? 0 : parse(out.substring(split + 1).trim());
        return new CurlResult(
                url,
                run.exitCode(),
                status,
                split < 0 ? out : out.substring(0, split),
                run.stderr().trim());
    }

    /**
     * Connects to a server-first service and reads its greeting, printing seconds-until-first-bytes and the
     * bytes. A closed connection reads as empty.
     */
    Banner banner(String address, int port) {
        String script = """
                import socket, sys, time
                start = time.monotonic()
                data = b""
                try:
                    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
                    s.settimeout(3)
                    data = s.recv(64)
                except Exception as e:
                    data = b""
                print("%.3f %s" % (time.monotonic() - start, data.decode("ascii", "replace").strip()))
                """;
        ProcessRun run = ProcessRun.run(
                        Duration.ofSeconds(20),
                        null,
                        List.of("ip", "netns", "exec", netns, "python3", "-c", script, address, String.valueOf(port)))
                .orFail();
        String[] parts = run.stdout().trim().split(" ", 2);
        return new Banner(Double.parseDouble(parts[0]), parts.length > 1 ? parts[1] : "");
    }

    /**
     * Starts a client that keeps one HTTP/1.1 connection open: it sends {@code GET path}, prints the
     * status, waits until {@code goFile} exists, sends the same request on the same connection and
     * prints what happened ("403", "200", or "closed" when the sidecar closed the connection).
     */
    Process keepAliveClient(String host, String path, Path goFile, Path output) throws java.io.IOException {
        String script = """
                import http.client, os, sys, time
                host, path, go = sys.argv[1], sys.argv[2], sys.argv[3]
                c = http.client.HTTPConnection(host, 80, timeout=10)
                c.request("GET", path); r = c.getresponse(); r.read()
                print("first", r.status, flush=True)
                deadline = time.time() + 60
                while not os.path.exists(go) and time.time() < deadline:
                    time.sleep(0.05)
                try:
                    c.request("GET", path); r = c.getresponse(); r.read()
                    print("second", r.status, flush=True)
                except Exception as e:
                    print("second closed", type(e).__name__, flush=True)
                """;
        return new ProcessBuilder("ip", "netns", "exec", netns, "python3", "-c", script, host, path, goFile.toString())
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .start();
    }

    private static int parse(String code) {
        try {
            return Integer.parseInt(code);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    record CurlResult(String url, int exitCode, int status, String body, String error) {

        boolean ok() {
            return exitCode == 0 && status == 200;
        }

        /** Refused or closed before a response (curl error), or 403 where HTTP is spoken. */
        boolean denied() {
            return exitCode != 0 || status == 403;
        }

        @Override
        public String toString() {
            return url + " -> " + (exitCode != 0 ? "curl exit " + exitCode + " (" + error + ")" : "HTTP " + status);
        }
    }

    record Banner(double seconds, String text) {
        boolean isSsh() {
            return text.startsWith("SSH-");
        }
    }
}
