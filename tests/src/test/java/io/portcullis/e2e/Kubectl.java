package io.portcullis.e2e;

import io.portcullis.kubernetes.testing.KubeApiServer;
import io.portcullis.kubernetes.testing.KubectlResult;

/** The guide's commands as the guide gives them: the real kubectl against a real API server. */
record Kubectl(KubeApiServer server) implements GuideCommands {

    @Override
    public String apply(String manifests) {
        return tryApply(manifests).orThrow().trim();
    }

    /** {@code kubectl apply -f -}, which the API server may refuse (schema, admission): the caller checks. */
    KubectlResult tryApply(String manifests) {
        return server.kubectlWithStdin(manifests, "apply", "-f", "-");
    }

    @Override
    public String delete(String kind, String namespace, String name) {
        return server.kubectl("delete", kind, name, "-n", namespace).orThrow().trim();
    }

    @Override
    public String patchMeshConfig(String json) {
        return server.kubectl("patch", "meshconfig", "fsm-mesh-config", "-n", "fsm-system", "-p", json, "--type=merge")
                .orThrow()
                .trim();
    }
}
