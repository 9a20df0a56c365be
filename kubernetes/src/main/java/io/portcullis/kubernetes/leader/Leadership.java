package io.portcullis.kubernetes.leader;

/** What a replica does when it gains or loses the Lease. Called from the election's thread; must not block. */
public interface Leadership {

    void startLeading();

    void stopLeading();
}
