/**
 * Portcullis on a Kubernetes API server: the informer-backed config source, status conditions, admission
 * webhooks, namespace enrolment and sidecar injection, leader election. Nothing outside this package (and
 * the CLI that wires it) sees a Kubernetes client type; the xDS server gets snapshots through
 * {@code io.portcullis.source.ConfigSource}.
 */
package io.portcullis.kubernetes;
