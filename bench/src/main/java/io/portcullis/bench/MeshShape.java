package io.portcullis.bench;

import io.portcullis.input.ServiceAccountRef;

/**
 * The size of a simulated mesh: {@code identities} ServiceAccounts with {@code podsPerIdentity} sidecars
 * each, and {@code policies} Egress policies spread round-robin over the identities (policy {@code p} names
 * identity {@code p % identities}). The reference mesh is 100 identities x 10 pods, with 200 or
 * 10,000 policies.
 */
public record MeshShape(int identities, int podsPerIdentity, int policies) {

    /** How many namespaces the identities live in (identity {@code i} in namespace {@code i % NAMESPACES}). */
    public static final int NAMESPACES = 10;

    public MeshShape {
        if (identities < 1 || podsPerIdentity < 1 || policies < 0) {
            throw new IllegalArgumentException("a mesh needs at least one identity and one pod per identity");
        }
    }

    public int sidecars() {
        return identities * podsPerIdentity;
    }

    /** Identity {@code i}: ServiceAccount {@code app-<i>} in namespace {@code team-<i % 10>}. */
    public ServiceAccountRef identity(int i) {
        return new ServiceAccountRef("team-" + (i % NAMESPACES), "app-" + i);
    }

    /** The identity policy {@code p} names. */
    public int identityOf(int policy) {
        return policy % identities;
    }

    /** The first policy of identity {@code i}, or -1 when it has none: what a one-identity change edits. */
    public int firstPolicyOf(int identity) {
        return identity < policies ? identity : -1;
    }

    @Override
    public String toString() {
        return identities + " identities x " + podsPerIdentity + " pods, " + policies + " policies";
    }
}
