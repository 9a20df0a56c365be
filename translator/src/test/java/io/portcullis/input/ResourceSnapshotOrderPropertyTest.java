package io.portcullis.input;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.portcullis.crds.Egress;
import io.portcullis.crds.EgressSettings;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * A snapshot lists its resources in printed-key order whatever order they came in, and a list already in that
 * order (which the snapshot only checks, without sorting) comes out unchanged. Duplicated keys keep the order
 * they came in, as a stable sort keeps them: the source reports which definition wins by that order.
 */
class ResourceSnapshotOrderPropertyTest {

    @Provide
    Arbitrary<List<Egress>> egresses() {
        Arbitrary<String> names =
                Arbitraries.strings().withChars("ab-.09").ofMinLength(1).ofMaxLength(4);
        return names.tuple2()
                .map(pair -> egress(pair.get1(), pair.get2()))
                .list()
                .ofMaxSize(12);
    }

    @Property(tries = 1000, seed = "20261127")
    void resourcesComeOutInPrintedKeyOrderStably(@ForAll("egresses") List<Egress> egresses) {
        List<Egress> expected = new ArrayList<>(egresses);
        expected.sort(Comparator.comparing(egress -> ResourceKey.of(egress).toString()));

        List<Egress> once = new ResourceSnapshot(EgressSettings.DEFAULTS, egresses, List.of()).egresses();
        List<Egress> again = new ResourceSnapshot(EgressSettings.DEFAULTS, once, List.of()).egresses();

        assertThat(once).containsExactlyElementsOf(expected);
        assertThat(again).containsExactlyElementsOf(expected);
        for (int i = 0; i < expected.size(); i++) {
            assertThat(once.get(i)).isSameAs(expected.get(i)); // which of two equal keys comes first matters
        }
    }

    private static Egress egress(String namespace, String name) {
        Egress egress = new Egress();
        egress.setMetadata(
                new ObjectMetaBuilder().withNamespace(namespace).withName(name).build());
        return egress;
    }
}
