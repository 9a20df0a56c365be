package io.portcullis.e2e;

/** The guide's kubectl commands, against whatever config source a walkthrough runs on. */
interface GuideCommands {

    /** {@code kubectl apply -f -} of these manifests, verbatim; returns what it printed. */
    String apply(String manifests);

    /** {@code kubectl delete KIND NAME -n NAMESPACE}. */
    String delete(String kind, String namespace, String name);

    /** The guide's {@code kubectl patch meshconfig fsm-mesh-config -n fsm-system -p '...' --type=merge}. */
    String patchMeshConfig(String json);
}
