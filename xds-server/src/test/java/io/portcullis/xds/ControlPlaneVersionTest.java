package io.portcullis.xds;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.portcullis.envoy.SidecarResources;
import io.portcullis.model.ServiceAccountRef;
import io.portcullis.source.DirectoryConfigSource;
import io.portcullis.source.ManifestStore;
import io.portcullis.testfixtures.EgressManifest;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several control planes on one config must serve the same version, so that a sidecar failing over from
 * one to another (or to a restarted one) is recognised as up to date instead of depending on which
 * process it reached and what that process saw before.
 */
class ControlPlaneVersionTest {

    private static final ServiceAccountRef CURL = new ServiceAccountRef("curl", "curl");

    @TempDir
    Path dir;

    private ManifestStore store;

    @BeforeEach
    void meshConfig() throws Exception {
        store = new ManifestStore(dir, "fsm-system");
        store.ensureMeshConfig();
    }

    @Test
    void twoControlPlanesReadingOneDirectoryServeTheSameVersionAndResources() throws Exception {
        store.apply(egress("httpbin-80", 80) + "---\n" + egress("httpbin-8080", 8080), "test", null);

        SidecarResources a = servedBy(started());
        SidecarResources b = servedBy(started());

        assertThat(b.version()).isEqualTo(a.version());
        assertThat(b).isEqualTo(a);
    }

    @Test
    void aControlPlaneThatRetiredARouteTableServesTheVersionOfOneStartedAfterwards() throws Exception {
        store.apply(egress("httpbin-80", 80) + "---\n" + egress("httpbin-8080", 8080), "test", null);
        EgressControlPlane longRunning = started();
        servedBy(longRunning);
        store.delete("egress", "curl", "httpbin-8080");
        longRunning.apply(new DirectoryConfigSource(dir, "fsm-system").readOnce());

        SidecarResources afterDeletion = servedBy(longRunning);
        SidecarResources fresh = servedBy(started());

        assertThat(afterDeletion.routes())
                .extracting(RouteConfiguration::getName)
                .as("the long-running one still refuses everything under the retired name")
                .hasSize(2);
        assertThat(fresh.routes()).hasSize(1);
        assertThat(afterDeletion.version()).isEqualTo(fresh.version());
    }

    private EgressControlPlane started() throws Exception {
        EgressControlPlane controlPlane = new EgressControlPlane();
        controlPlane.apply(new DirectoryConfigSource(dir, "fsm-system").readOnce());
        return controlPlane;
    }

    private static SidecarResources servedBy(EgressControlPlane controlPlane) {
        controlPlane.ensureServed(CURL);
        return controlPlane.served(CURL).orElseThrow().resources();
    }

    private static String egress(String name, int port) {
        return EgressManifest.named(name).host("httpbin.org").port(port, "http").yaml();
    }
}
