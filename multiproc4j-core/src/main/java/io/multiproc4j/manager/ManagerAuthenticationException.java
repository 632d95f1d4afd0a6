package io.multiproc4j.manager;

/**
 * The authentication key did not match: either the manager refused ours, or the manager could not
 * prove that it holds the same key. The key itself never crosses the wire (an HMAC-SHA256
 * challenge in each direction), so the fix is on the side that has the wrong key file.
 */
public class ManagerAuthenticationException extends ManagerUnavailableException {
    private static final long serialVersionUID = 1L;

    /** @param message who refused whom, and how to fix it */
    public ManagerAuthenticationException(String message) {
        super(message, null);
    }
}
