/**
 * The model: what one identity's sidecars must allow ({@link io.portcullis.ir.SidecarEgressModel}),
 * merged from the validated policies by {@link io.portcullis.ir.SidecarModelBuilder}, independent of
 * Envoy. Its types refuse the states the Envoy builders cannot express. The translator's input (what
 * it reads) is in {@code io.portcullis.input}.
 */
package io.portcullis.ir;
