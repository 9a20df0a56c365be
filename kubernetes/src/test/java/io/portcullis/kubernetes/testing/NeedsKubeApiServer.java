package io.portcullis.kubernetes.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;

/**
 * The test runs a real kube-apiserver and etcd ({@link KubeApiServer}, binaries built by
 * {@code scripts/install-kube}).
 *
 * <p>Tagged {@code system}: plain {@code mvn test} leaves it out so a contributor without the binaries
 * gets a quick run; {@code scripts/test} (CI, {@code -Pall}) runs it, and there missing binaries FAIL it,
 * never skip it.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag("system")
public @interface NeedsKubeApiServer {}
