package io.portcullis.cli;

import io.portcullis.debug.DebugEndpoint;
import io.portcullis.source.DirectoryConfigSource;
import io.portcullis.source.ManifestStore;
import io.portcullis.xds.EgressControlPlane;
import io.portcullis.xds.SidecarRegistry;
import io.portcullis.xds.XdsServer;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Run the control plane: watch a directory of manifests and serve xDS (ADS) to sidecars.")
final class ServeCommand implements Callable<Integer> {

    @Option(names = "--config-dir", required = true, description = "Directory of Egress/HTTPRouteGroup/MeshConfig YAML manifests, applied live.")
    Path configDir;

    @Option(names = "--xds-address", defaultValue = "0.0.0.0", description = "Address for ADS gRPC (default: ${DEFAULT-VALUE}).")
    String xdsAddress;

    @Option(names = "--xds-port", defaultValue = "15010", description = "Port for ADS gRPC (default: ${DEFAULT-VALUE}).")
    int xdsPort;

    @Option(names = "--debug-address", defaultValue = "127.0.0.1", description = "Address of the debug endpoint (default: ${DEFAULT-VALUE}).")
    String debugAddress;

    @Option(names = "--debug-port", defaultValue = "15080", description = "Port of the debug endpoint (default: ${DEFAULT-VALUE}).")
    int debugPort;

    @Option(names = "--mesh-namespace", defaultValue = "fsm-system", description = "Namespace of MeshConfig fsm-mesh-config (default: ${DEFAULT-VALUE}).")
    String meshNamespace;

    @Override
    public Integer call() throws Exception {
        ManifestStore store = new ManifestStore(configDir, meshNamespace);
        store.ensureMeshConfig();
        EgressControlPlane controlPlane = new EgressControlPlane();
        SidecarRegistry registry = new SidecarRegistry(controlPlane, Clock.systemUTC());
        try (DirectoryConfigSource source = new DirectoryConfigSource(configDir, meshNamespace);
             XdsServer xds = new XdsServer(new InetSocketAddress(xdsAddress, xdsPort), controlPlane, registry);
             DebugEndpoint debug = new DebugEndpoint(new InetSocketAddress(debugAddress, debugPort), controlPlane, registry)) {
            source.start(controlPlane::apply);
            xds.start();
            debug.start();
            CountDownLatch stop = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
            stop.await();
        }
        return 0;
    }
}
