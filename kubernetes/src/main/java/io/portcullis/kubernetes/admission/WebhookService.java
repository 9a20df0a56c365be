package io.portcullis.kubernetes.admission;

import io.portcullis.crds.MeshConfig;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * How the API server reaches the admission webhooks: the {@code portcullis-webhook} Service in the
 * control plane's namespace (port 443 to container port {@value #CONTAINER_PORT}), the paths on it, and
 * the two webhook configurations whose {@code caBundle} the control plane fills in.
 */
public final class WebhookService {

    public static final String NAME = "portcullis-webhook";
    public static final String NAMESPACE = MeshConfig.DEFAULT_NAMESPACE;
    public static final int CONTAINER_PORT = 9443;
    public static final String VALIDATE_PATH = "/validate";
    public static final String INJECT_PATH = "/inject";
    public static final String VALIDATING_CONFIGURATION = "portcullis-validating";
    public static final String MUTATING_CONFIGURATION = "portcullis-injector";

    private WebhookService() {}

    /**
     * The names the serving certificate must carry: the Service's DNS names the API server dials
     * ({@code <service>.<namespace>.svc}, and the cluster-domain form some clients use), then
     * {@code extra} (host names or IP addresses, e.g. 127.0.0.1 for a webhook configured by URL).
     */
    public static List<String> serverNames(List<String> extra) {
        LinkedHashSet<String> names = new LinkedHashSet<>();
        names.add(NAME + "." + NAMESPACE + ".svc");
        names.add(NAME + "." + NAMESPACE + ".svc.cluster.local");
        names.addAll(extra);
        return new ArrayList<>(names);
    }
}
