package io.portcullis.translator;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;

/**
 * The test runs the real Envoy binary ($PORTCULLIS_ENVOY, /usr/local/lib/portcullis/envoy or PATH).
 *
 * <p>Tagged {@code system}: plain {@code mvn test} leaves it out so a contributor without the tool
 * gets a quick run; {@code scripts/test} (CI, {@code -Pall}) runs it, and there a missing tool FAILS
 * it, never skips it.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag("system")
// jqwik's engine reads its own tag annotation, Jupiter's reads the other: properties need both.
@net.jqwik.api.Tag("system")
public @interface NeedsEnvoy {}
