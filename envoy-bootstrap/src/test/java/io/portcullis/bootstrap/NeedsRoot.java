package io.portcullis.bootstrap;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;

/**
 * The test needs root: it creates network namespaces and applies iptables rules in them.
 *
 * <p>Tagged {@code system}: plain {@code mvn test} leaves it out so a contributor without the tool
 * gets a quick run; {@code scripts/test} (CI, {@code -Pall}) runs it, and there a missing tool FAILS
 * it, never skips it.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag("system")
public @interface NeedsRoot {}
