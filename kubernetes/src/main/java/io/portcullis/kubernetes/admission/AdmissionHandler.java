package io.portcullis.kubernetes.admission;

import io.fabric8.kubernetes.api.model.admission.v1.AdmissionRequest;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;

/** One admission webhook: answers the API server's request (the server fills in uid and apiVersion). */
@FunctionalInterface
public interface AdmissionHandler {
    AdmissionResponse review(AdmissionRequest request);
}
