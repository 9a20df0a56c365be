package io.portcullis.ir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;

import io.portcullis.input.ServiceAccountRef;
import io.portcullis.validation.Cidr;
import io.portcullis.validation.HttpMatchOrigin;
import io.portcullis.validation.HttpRequestMatch;
import io.portcullis.validation.PolicyOrigin;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The model's types refuse the states the Envoy builders cannot express; each test breaks one rule. */
class ModelInvariantsTest {

    private static final ServiceAccountRef CURL = new ServiceAccountRef("curl", "curl");
    private static final Set<PolicyOrigin> BY_A = Set.of(new PolicyOrigin("curl", "a"));
    private static final Optional<TcpAccess> TCP_ANYWHERE = Optional.of(new TcpAccess(true, List.of(), BY_A));
    private static final Optional<TcpAccess> TCP_IN_RANGE =
            Optional.of(new TcpAccess(false, List.of(Cidr.parse("10.0.0.0/8").orElseThrow()), BY_A));
    private static final Optional<TlsAccess> TLS = Optional.of(new TlsAccess(List.of("httpbin.org"), BY_A));
    private static final HttpHostAccess HTTP = new HttpHostAccess("httpbin.org", true, List.of(), BY_A);

    @Test
    void onlyThePolicyEnforcedModelHasPortsOrConflicts() {
        assertThat(SidecarEgressModel.class.getPermittedSubclasses())
                .containsExactlyInAnyOrder(
                        SidecarEgressModel.Passthrough.class,
                        SidecarEgressModel.DenyAll.class,
                        SidecarEgressModel.PolicyEnforced.class);
        assertThat(components(SidecarEgressModel.Passthrough.class)).containsExactly("identity");
        assertThat(components(SidecarEgressModel.DenyAll.class)).containsExactly("identity", "audit");
        assertThat(components(SidecarEgressModel.PolicyEnforced.class))
                .containsExactly("identity", "ports", "conflicts", "audit");
    }

    @Test
    void aPolicyEnforcedModelCannotBeBuiltWithoutItsPortList() {
        assertThatNullPointerException().isThrownBy(() -> new SidecarEgressModel.PolicyEnforced(CURL, null, List.of()));
    }

    @Test
    void aPolicyEnforcedModelHasOnePlanPerPortInPortOrder() {
        PortPlan http80 = new PortPlan(80, false, Optional.empty(), List.of(HTTP), Optional.empty());
        PortPlan tls443 = new PortPlan(443, false, Optional.empty(), List.of(), TLS);

        assertThat(new SidecarEgressModel.PolicyEnforced(CURL, List.of(http80, tls443), List.of()).ports())
                .containsExactly(http80, tls443);
        assertThatIllegalArgumentException()
                .isThrownBy(() -> new SidecarEgressModel.PolicyEnforced(CURL, List.of(http80, http80), List.of()))
                .withMessageContaining("one per port");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> new SidecarEgressModel.PolicyEnforced(CURL, List.of(tls443, http80), List.of()))
                .withMessageContaining("sorted by port");
    }

    @Test
    void aPortPlanMustAllowSomethingOnARealPort() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> new PortPlan(80, false, Optional.empty(), List.of(), Optional.empty()))
                .withMessageContaining("allows nothing");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> new PortPlan(0, false, TCP_IN_RANGE, List.of(), Optional.empty()))
                .withMessageContaining("not a TCP port");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> new PortPlan(65536, false, TCP_IN_RANGE, List.of(), Optional.empty()));
    }

    @Test
    void aServerFirstPortNeedsTcpAndCannotMatchSni() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> new PortPlan(22, true, Optional.empty(), List.of(HTTP), Optional.empty()));
        assertThatIllegalArgumentException()
                .isThrownBy(() -> new PortPlan(8443, true, TCP_IN_RANGE, List.of(), TLS))
                .withMessageContaining("SNI");
        assertThat(new PortPlan(22, true, TCP_IN_RANGE, List.of(), Optional.empty()).serverFirst())
                .isTrue();
    }

    @Test
    void tcpToAnyAddressLeavesNoRoomForHostChainsOnItsPort() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> new PortPlan(80, false, TCP_ANYWHERE, List.of(HTTP), Optional.empty()));
        assertThatIllegalArgumentException().isThrownBy(() -> new PortPlan(443, false, TCP_ANYWHERE, List.of(), TLS));
        assertThat(new PortPlan(443, false, TCP_IN_RANGE, List.of(HTTP), TLS).tls())
                .as("TCP limited to ranges leaves the host chains beside it")
                .isEqualTo(TLS);
    }

    @Test
    void anHttpHostAppearsOncePerPortAndHostsAreSorted() {
        HttpHostAccess example = new HttpHostAccess("example.org", true, List.of(), BY_A);
        assertThat(new PortPlan(80, false, Optional.empty(), List.of(HTTP, example), Optional.empty()).httpHosts())
                .containsExactly(example, HTTP);
        assertThatIllegalArgumentException()
                .isThrownBy(() -> new PortPlan(80, false, Optional.empty(), List.of(HTTP, HTTP), Optional.empty()))
                .withMessageContaining("twice");
    }

    @Test
    void tcpAccessIsEitherAnyAddressOrSomeRanges() {
        Cidr tenSlash8 = Cidr.parse("10.0.0.0/8").orElseThrow();
        assertThatIllegalArgumentException().isThrownBy(() -> new TcpAccess(true, List.of(tenSlash8), BY_A));
        assertThatIllegalArgumentException().isThrownBy(() -> new TcpAccess(false, List.of(), BY_A));
    }

    @Test
    void tlsAccessNamesAtLeastOneServerNameSortedOnce() {
        assertThatIllegalArgumentException().isThrownBy(() -> new TlsAccess(List.of(), BY_A));
        assertThat(new TlsAccess(List.of("pypi.org", "httpbin.org", "pypi.org"), BY_A).serverNames())
                .containsExactly("httpbin.org", "pypi.org");
    }

    @Test
    void anHttpHostWithoutAnyRequestNeedsARouteMatch() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> new HttpHostAccess("httpbin.org", false, List.of(), BY_A))
                .withMessageContaining("route matches");
        HttpRequestMatch get = new HttpRequestMatch(
                new HttpMatchOrigin("curl", "r", 0, Optional.of("get")), "/get", List.of(), Map.of());
        assertThat(new HttpHostAccess("httpbin.org", true, List.of(get), BY_A).matches())
                .as("any request makes the matches moot")
                .isEmpty();
    }

    @Test
    void everyGrantNamesThePoliciesBehindIt() {
        assertThatIllegalArgumentException().isThrownBy(() -> new TcpAccess(true, List.of(), Set.of()));
        assertThatIllegalArgumentException().isThrownBy(() -> new TlsAccess(List.of("httpbin.org"), Set.of()));
        assertThatIllegalArgumentException()
                .isThrownBy(() -> new HttpHostAccess("httpbin.org", true, List.of(), Set.of()));
    }

    private static List<String> components(Class<? extends Record> type) {
        return Arrays.stream(type.getRecordComponents())
                .map(RecordComponent::getName)
                .toList();
    }
}
