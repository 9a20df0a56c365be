package io.portcullis.translator;

import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;

/**
 * The run-time knobs of the generated-policy-set properties, from system properties (Maven passes
 * {@code -D} on to the tests):
 *
 * <ul>
 *   <li>{@code portcullis.property.seed}: jqwik seed; fixed by default so CI runs are reproducible</li>
 *   <li>{@code portcullis.property.sets}: about how many policy sets to generate (default 300)</li>
 *   <li>{@code portcullis.property.tries}: jqwik tries (batches of sets), overriding {@code .sets}</li>
 *   <li>{@code portcullis.property.regex}: {@code false} leaves out the regex-stressing features</li>
 *   <li>{@code portcullis.property.collect}: {@code true} validates every batch and reports all
 *       rejection classes at the end instead of stopping and shrinking at the first (the long run)</li>
 * </ul>
 *
 * As a jqwik hook it puts seed and tries on the property, which annotations cannot take from outside.
 */
public final class PropertyRunSettings implements AroundPropertyHook {

    public static final String DEFAULT_SEED = "20261126";
    public static final int DEFAULT_SETS = 300;

    public static String seed() {
        return System.getProperty("portcullis.property.seed", DEFAULT_SEED);
    }

    public static boolean regexFeatures() {
        return Boolean.parseBoolean(System.getProperty("portcullis.property.regex", "true"));
    }

    public static boolean collectAll() {
        return Boolean.getBoolean("portcullis.property.collect");
    }

    public static int sets() {
        return Integer.getInteger("portcullis.property.sets", DEFAULT_SETS);
    }

    /**
     * jqwik tries for batches of 1..10 sets. Its list sizes average about 4 there, not 5.5 (it draws
     * small lists and edge cases more often than a uniform draw would): measured over 7,275 sets.
     */
    static int tries() {
        Integer tries = Integer.getInteger("portcullis.property.tries");
        return tries != null ? tries : Math.max(1, (int) Math.ceil(sets() / 4.0));
    }

    @Override
    public PropertyExecutionResult aroundProperty(PropertyLifecycleContext context, PropertyExecutor property) {
        // A property that declares its tries (the live sample) keeps them; the validation property's
        // tries follow the number of sets asked for.
        int tries = context.attributes().tries().orElseGet(PropertyRunSettings::tries);
        context.attributes().setSeed(seed());
        context.attributes().setTries(tries);
        System.out.printf(
                "%s: seed %s (-Dportcullis.property.seed), %d tries (-Dportcullis.property.tries / .sets),"
                        + " regex features %s (-Dportcullis.property.regex), collect all %s (-Dportcullis.property.collect)%n",
                context.extendedLabel(), seed(), tries, regexFeatures(), collectAll());
        return property.execute();
    }
}
