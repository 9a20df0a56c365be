package io.portcullis.input;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.portcullis.crds.Egress;
import io.portcullis.crds.EgressSettings;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * {@link ResourceSnapshot#ofKeyOrdered} trusts its caller's order, so a source that breaks the promise must be caught
 * where the tests run (with assertions), and what it hands out must be as immutable as any snapshot's lists.
 */
class KeyOrderedSnapshotTest {

    @Test
    void listsOutOfKeyOrderAreRefusedWhenAssertionsAreOn() {
        assertThat(ResourceSnapshot.class.desiredAssertionStatus())
                .as("this test needs assertions (surefire enables them)")
                .isTrue();
        List<Egress> outOfOrder = List.of(egress("b", "x"), egress("a", "x"));

        assertThatThrownBy(() ->
                        ResourceSnapshot.ofKeyOrdered(EgressSettings.DEFAULTS, outOfOrder, List.of(), new TreeSet<>()))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("key order");
    }

    @Test
    void listsInKeyOrderAreKeptAsGivenAndCannotBeChanged() {
        Egress first = egress("a", "x");
        Egress second = egress("a", "y");
        ResourceSnapshot snapshot = ResourceSnapshot.ofKeyOrdered(
                EgressSettings.DEFAULTS, List.of(first, second), List.of(), new TreeSet<>());
        ResourceSnapshot fromIt = new ResourceSnapshot(snapshot.mesh(), snapshot.egresses(), snapshot.routeGroups());

        assertThat(snapshot.egresses()).containsExactly(first, second);
        assertThat(fromIt).isEqualTo(snapshot);
        assertThat(fromIt.egresses()).isEqualTo(List.of(first, second));
        assertThatThrownBy(() -> snapshot.egresses().add(first)).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> snapshot.egresses().set(0, second)).isInstanceOf(UnsupportedOperationException.class);
    }

    private static Egress egress(String namespace, String name) {
        Egress egress = new Egress();
        egress.setMetadata(
                new ObjectMetaBuilder().withNamespace(namespace).withName(name).build());
        return egress;
    }
}
