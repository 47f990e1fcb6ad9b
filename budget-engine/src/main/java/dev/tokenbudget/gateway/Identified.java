package dev.tokenbudget.gateway;

import dev.tokenbudget.identity.VirtualKey;
import dev.tokenbudget.provider.Endpoint;
import dev.tokenbudget.provider.Provider;

/**
 * An authenticated request whose body is still to come: the virtual key, the provider and
 * endpoint the path names, and the feature and user the request asks to be charged to (the engine
 * checks that the key may use the feature). Immutable; hand it to {@link BudgetGateway#admit}.
 */
public final class Identified implements Identification {

    private final VirtualKey key;
    private final Route route;
    private final String feature;
    private final String user;
    private final String path;
    private final String upstreamPath;
    private final String credential;

    Identified(VirtualKey key, Route route, String feature, String user, String path, String upstreamPath,
               String credential) {
        this.key = key;
        this.route = route;
        this.feature = feature;
        this.user = user;
        this.path = path;
        this.upstreamPath = upstreamPath;
        this.credential = credential;
    }

    public VirtualKey key() {
        return key;
    }

    public Provider provider() {
        return route.provider();
    }

    public Endpoint endpoint() {
        return route.endpoint();
    }

    /** The feature header's value, or null. */
    public String feature() {
        return feature;
    }

    /** The user header's value, or null. */
    public String user() {
        return user;
    }

    /** The model named in the path (Gemini model, Azure deployment), or null. */
    public String pathModel() {
        return route.pathModel();
    }

    /** The request path as received. */
    public String path() {
        return path;
    }

    /** False for endpoints that generate nothing (model lists, token counting): no body needed, no reservation. */
    public boolean metered() {
        return route.endpoint() != Endpoint.UNMETERED;
    }

    Route route() {
        return route;
    }

    /** Path to send upstream before any model change: the received one minus a {@code key=} query parameter. */
    String upstreamPath() {
        return upstreamPath;
    }

    /** The upstream API key, or null when none is configured (the gateway or upstream supplies it). */
    String credential() {
        return credential;
    }

    @Override
    public String toString() {
        return "Identified[" + key.name() + " " + route.provider() + " " + route.endpoint() + "]";
    }
}
