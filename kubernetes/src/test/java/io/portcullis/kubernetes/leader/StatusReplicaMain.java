package io.portcullis.kubernetes.leader;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.portcullis.kubernetes.status.StatusReadyApiServer;
import io.portcullis.kubernetes.status.StatusReporting;
import io.portcullis.source.SourceUpdate;
import io.portcullis.xds.EgressControlPlane;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * One control-plane replica as a process of its own, so a test can kill it (SIGKILL: no release, no
 * shutdown hook) like a crashed pod: an EgressControlPlane fed from the API server and
 * {@link StatusReporting} as {@code portcullis serve --kubeconfig} starts it. The config source here
 * re-lists every 300 ms (the informer source lives on another branch); what matters is what the replica
 * does with the evaluation.
 *
 * <p>Prints {@code LEADING}, {@code FOLLOWING} and {@code WRITES <n>} lines for the test to read.
 *
 * <p>Arguments: kubeconfig, identity, field manager, lease namespace, lease duration ms, renew deadline
 * ms, retry period ms.
 */
public final class StatusReplicaMain {

    private StatusReplicaMain() {}

    public static void main(String[] args) throws Exception {
        Path kubeconfig = Path.of(args[0]);
        String identity = args[1];
        String fieldManager = args[2];
        LeaseSettings lease = new LeaseSettings(
                args[3],
                LeaseSettings.DEFAULT_NAME,
                identity,
                Duration.ofMillis(Long.parseLong(args[4])),
                Duration.ofMillis(Long.parseLong(args[5])),
                Duration.ofMillis(Long.parseLong(args[6])));
        KubernetesClient client = new KubernetesClientBuilder()
                .withConfig(Config.fromKubeconfig(Files.readString(kubeconfig)))
                .build();
        EgressControlPlane controlPlane = new EgressControlPlane();
        StatusReporting reporting = StatusReporting.start(client, controlPlane, lease, fieldManager);
        System.out.println("STARTED " + identity);
        boolean leadingPrinted = false;
        SourceUpdate last = null;
        int writesPrinted = 0;
        while (true) {
            try {
                SourceUpdate update = StatusReadyApiServer.snapshot(client);
                if (!update.equals(last)) {
                    controlPlane.apply(update);
                    last = update;
                    System.out.println("APPLIED " + update.snapshot().egresses().size() + " egresses");
                }
            } catch (RuntimeException e) {
                System.out.println("LIST FAILED " + e.getMessage());
            }
            if (reporting.leading() != leadingPrinted) {
                leadingPrinted = reporting.leading();
                System.out.println(leadingPrinted ? "LEADING" : "FOLLOWING");
            }
            if (reporting.writes() != writesPrinted) {
                writesPrinted = reporting.writes();
                System.out.println("WRITES " + writesPrinted);
            }
            Thread.sleep(300);
        }
    }
}
