package io.portcullis.explain;

import io.portcullis.input.ServiceAccountRef;
import io.portcullis.validation.PolicyOrigin;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What an identity's sidecar does with one {@link EgressRequest}, and why, as {@link EgressExplainer}
 * reads it off the model the sidecar's Envoy config is built from.
 */
public sealed interface Explanation {

    ServiceAccountRef identity();

    EgressRequest request();

    /** Facts that bear on the verdict but did not decide it (an unresolved name, a server-first port). */
    List<String> notes();

    /**
     * The sidecar forwards it.
     *
     * @param policies   the policies the deciding grant names, as the config dump does; empty in passthrough mode
     * @param decidingPolicy the one policy the sidecar's decision log names for it (its {@code policy} field):
     *                   the grant's first policy, as the model's {@code decidedBy}; empty in passthrough mode
     * @param chain      the Envoy filter chain that takes the connection
     * @param route      the HTTP route that forwards the request; empty for TCP and TLS
     * @param match      in words, what matched: the port, address range, SNI, Host, route match
     */
    record Allowed(
            ServiceAccountRef identity,
            EgressRequest request,
            List<PolicyOrigin> policies,
            Optional<PolicyOrigin> decidingPolicy,
            String chain,
            Optional<String> route,
            String match,
            List<String> notes)
            implements Explanation {
        public Allowed {
            Objects.requireNonNull(identity, "identity");
            Objects.requireNonNull(match, "match");
            Objects.requireNonNull(decidingPolicy, "decidingPolicy");
            policies = List.copyOf(policies);
            notes = List.copyOf(notes);
        }
    }

    /**
     * The sidecar refuses it: closes the connection, or answers 403 to an HTTP request.
     *
     * @param chain   the filter chain that refuses it ({@code deny}: the listener's default chain)
     * @param route   the deny route of an HTTP port, when the refusal is a 403
     * @param decidingPolicy the policy the decision log names for the refusal: for a request no route match of
     *                an allowed host accepts, the host's deciding policy; empty when no policy decided it
     * @param closest the grant of the model that comes nearest, and what differs; empty when there is none
     */
    record Denied(
            ServiceAccountRef identity,
            EgressRequest request,
            String reason,
            String chain,
            Optional<String> route,
            Optional<PolicyOrigin> decidingPolicy,
            Optional<Closest> closest,
            List<String> notes)
            implements Explanation {
        public Denied {
            Objects.requireNonNull(identity, "identity");
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(decidingPolicy, "decidingPolicy");
            notes = List.copyOf(notes);
        }

        /** The same refusal in audit mode: let through and logged {@code would_deny}. */
        WouldDeny inAudit(String auditChain) {
            return new WouldDeny(identity, request, reason, auditChain, route, decidingPolicy, closest, notes);
        }
    }

    /**
     * Audit mode ({@code portcullis.io/egress-mode: audit} on the namespace, or on an Egress naming the port):
     * enforced, the sidecar would refuse it; in audit it forwards it to the address dialled and logs
     * {@code would_deny}, with the reason and policy the refusal would have. Traffic passes.
     *
     * @param chain the chain that lets it through: the default chain {@code deny} (namespace in audit), the
     *              port's {@code audit_<port>} chain (an Egress in audit), or the port's HTTP chain
     * @param route the HTTP deny route that forwards instead of answering 403
     */
    record WouldDeny(
            ServiceAccountRef identity,
            EgressRequest request,
            String reason,
            String chain,
            Optional<String> route,
            Optional<PolicyOrigin> decidingPolicy,
            Optional<Closest> closest,
            List<String> notes)
            implements Explanation {
        public WouldDeny {
            Objects.requireNonNull(identity, "identity");
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(decidingPolicy, "decidingPolicy");
            notes = List.copyOf(notes);
        }
    }

    /**
     * Raw TCP to a host name on a port whose TCP policies list IP ranges: the verdict depends on the
     * address the name resolves to in the pod, which explain does not guess.
     */
    record AddressNeeded(ServiceAccountRef identity, EgressRequest request, String reason, List<String> notes)
            implements Explanation {
        public AddressNeeded {
            notes = List.copyOf(notes);
        }
    }

    /**
     * The grant nearest to a denied request.
     *
     * @param grant       the grant in words: {@code http host httpbin.org on port 80}
     * @param policies    the policies behind it
     * @param differences what the request would have to change to be allowed by it
     */
    record Closest(String grant, List<PolicyOrigin> policies, List<Difference> differences) {
        public Closest {
            policies = List.copyOf(policies);
            differences = List.copyOf(differences);
        }
    }

    /** One way a request differs from a grant: what the policy allows, what the request has. */
    record Difference(Aspect aspect, String policy, String request) {}

    /** What a grant matches on, in the order Envoy looks at it. */
    enum Aspect {
        PORT,
        ADDRESS,
        PROTOCOL,
        SNI,
        HOST,
        PATH,
        METHOD,
        HEADER;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }
}
