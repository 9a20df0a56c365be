package io.portcullis.validation;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.crds.Egress;
import io.portcullis.crds.EgressSettings;
import io.portcullis.crds.HTTPRouteGroup;
import io.portcullis.input.ResourceSnapshot;
import io.portcullis.input.ServiceAccountRef;
import io.portcullis.translator.GeneratedPolicySet;
import io.portcullis.translator.PolicySetArbitraries;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;

/**
 * The incremental validator must give exactly what validating from scratch gives, for any sequence of
 * changes: rules, problems and their order. Each step of a random sequence adds, replaces or removes an
 * Egress or an HTTPRouteGroup (taken from a second random policy set, so names collide and a change can
 * make a group valid or invalid under the Egresses that name it), switches the mesh or the audited
 * namespaces; every resource a step does not touch is the same object as before, as the config sources
 * deliver it.
 */
class IncrementalPolicyValidatorPropertyTest {

    /** One change: what it does, and which resource of the pool or of the current snapshot it picks. */
    record Change(int kind, int pick) {}

    @Provide
    Arbitrary<GeneratedPolicySet> policySets() {
        return new PolicySetArbitraries(false).policySets();
    }

    @Provide
    Arbitrary<List<Change>> changes() {
        return Arbitraries.integers()
                .between(0, 8)
                .flatMap(kind -> Arbitraries.integers().between(0, 40).map(pick -> new Change(kind, pick)))
                .list()
                .ofMinSize(1)
                .ofMaxSize(25);
    }

    @Property(tries = 60, seed = "20261126", shrinking = ShrinkingMode.BOUNDED)
    void afterEveryChangeTheIncrementalResultEqualsValidatingFromScratch(
            @ForAll("policySets") GeneratedPolicySet start,
            @ForAll("policySets") GeneratedPolicySet pool,
            @ForAll("changes") List<Change> changes) {
        ResourceSnapshot first = start.snapshot();
        ResourceSnapshot others = pool.snapshot();
        List<Egress> egresses = new ArrayList<>(first.egresses());
        List<HTTPRouteGroup> groups = new ArrayList<>(first.routeGroups());
        EgressSettings mesh = first.mesh();
        Set<String> audited = Set.of();
        IncrementalPolicyValidator incremental = new IncrementalPolicyValidator();
        PolicyValidator scratch = new PolicyValidator();

        assertSame(incremental, scratch, new ResourceSnapshot(mesh, egresses, groups));
        for (Change change : changes) {
            switch (change.kind()) {
                case 0 -> replaceOrAdd(egresses, others.egresses(), change.pick(), false);
                case 1 -> replaceOrAdd(egresses, others.egresses(), change.pick(), true);
                case 2 -> removeOne(egresses, change.pick());
                case 3 -> replaceOrAdd(groups, others.routeGroups(), change.pick(), false);
                case 4 -> replaceOrAdd(groups, others.routeGroups(), change.pick(), true);
                case 5 -> removeOne(groups, change.pick());
                case 6 -> mesh = change.pick() % 2 == 0 ? others.mesh() : first.mesh();
                case 7 -> audited = change.pick() % 2 == 0 ? Set.of("curl") : Set.of("other", "team-a");
                default -> {
                    // nothing changed: everything is kept
                }
            }
            assertSame(
                    incremental, scratch, new ResourceSnapshot(mesh, egresses, groups).withAuditedNamespaces(audited));
        }
    }

    @Example
    void aChangeOfOneEgressValidatesOnlyThatEgress() {
        GeneratedPolicySet set = policySets().sample();
        ResourceSnapshot snapshot = set.snapshot();
        IncrementalPolicyValidator incremental = new IncrementalPolicyValidator();
        incremental.validate(snapshot);
        assertThat(incremental.validatedLastTime())
                .isEqualTo(snapshot.egresses().size() + snapshot.routeGroups().size());

        List<Egress> egresses = new ArrayList<>(snapshot.egresses());
        Egress changed = new GeneratedPolicySet(set.mesh(), set.egresses(), set.routeGroups(), set.quoting())
                .snapshot()
                .egresses()
                .get(0);
        egresses.set(0, changed); // an equal but new object: kept without validating
        incremental.validate(new ResourceSnapshot(snapshot.mesh(), egresses, snapshot.routeGroups()));
        assertThat(incremental.validatedLastTime()).isZero();

        changed.getMetadata().setLabels(java.util.Map.of("changed", "yes"));
        incremental.validate(new ResourceSnapshot(snapshot.mesh(), egresses, snapshot.routeGroups()));
        assertThat(incremental.validatedLastTime()).isEqualTo(1);
    }

    private static void assertSame(
            IncrementalPolicyValidator incremental, PolicyValidator scratch, ResourceSnapshot s) {
        ValidatedPolicies expected = scratch.validate(s);
        ValidatedPolicies actual = incremental.validate(s);
        assertThat(actual.problems()).containsExactlyElementsOf(expected.problems());
        assertThat(actual.rules()).containsExactlyElementsOf(expected.rules());
        assertThat(actual).isEqualTo(expected);
        // The identity index is carried over from the last result, not part of equals: compare it too.
        assertThat(actual.namedIdentities()).isEqualTo(expected.namedIdentities());
        for (ServiceAccountRef identity : expected.namedIdentities()) {
            assertThat(actual.rulesFor(identity))
                    .as(identity.toString())
                    .containsExactlyElementsOf(expected.rulesFor(identity));
        }
    }

    /** Puts the pool's resource {@code pick} in place of the current one of its key, or adds it (a duplicate too). */
    private static <T extends io.fabric8.kubernetes.api.model.HasMetadata> void replaceOrAdd(
            List<T> current, List<T> pool, int pick, boolean alwaysAdd) {
        if (pool.isEmpty()) {
            return;
        }
        T next = pool.get(pick % pool.size());
        for (int i = 0; i < current.size() && !alwaysAdd; i++) {
            if (io.portcullis.input.ResourceKey.of(current.get(i)).equals(io.portcullis.input.ResourceKey.of(next))) {
                current.set(i, next);
                return;
            }
        }
        current.add(next);
    }

    private static <T> void removeOne(List<T> current, int pick) {
        if (!current.isEmpty()) {
            current.remove(pick % current.size());
        }
    }
}
