package dev.claudecage.net.proxy;

import dev.claudecage.config.Sizes;
import dev.claudecage.net.EgressPolicy;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The limits of one cage, shared by all its connections through the proxy and the API gateway: how
 * many may be open at once, and how many bytes may pass in both directions together over the cage's
 * life. Past the byte limit the cage is cut off for good: every open connection is ended and no new
 * one is admitted, by either.
 */
public final class TrafficLimits {

    public enum Admission {
        ADMITTED, CONNECTION_LIMIT, EGRESS_LIMIT
    }

    private final long egressLimitBytes;
    private final int maxConnections;
    private final Set<Connection> open = ConcurrentHashMap.newKeySet();
    private final AtomicLong bytesUsed = new AtomicLong();
    private volatile boolean cutOff;

    public TrafficLimits(long egressLimitBytes, int maxConnections) {
        this.egressLimitBytes = egressLimitBytes;
        this.maxConnections = maxConnections;
    }

    /** The limits the policy sets for one cage. */
    public static TrafficLimits of(EgressPolicy policy) {
        return new TrafficLimits(policy.egressLimitBytes(), policy.maxConnections());
    }

    /** Counts the connection against the cap, unless the cage is cut off or at its cap. */
    public synchronized Admission admit(Connection connection) {
        if (isCutOff()) {
            return Admission.EGRESS_LIMIT;
        }
        if (open.size() >= maxConnections) {
            return Admission.CONNECTION_LIMIT;
        }
        open.add(connection);
        return Admission.ADMITTED;
    }

    public synchronized void release(Connection connection) {
        open.remove(connection);
    }

    /** How many of the wanted bytes may still pass; fewer than wanted means the limit is reached. */
    int grant(int wanted) {
        while (true) {
            long used = bytesUsed.get();
            int granted = (int) Math.min(wanted, Math.max(0, egressLimitBytes - used));
            if (granted == 0 || bytesUsed.compareAndSet(used, used + granted)) {
                return granted;
            }
        }
    }

    /** Ends every open connection and refuses new ones, from now on. */
    void cutOff() {
        List<Connection> toEnd;
        synchronized (this) {
            if (cutOff) {
                return;
            }
            cutOff = true;
            toEnd = List.copyOf(open);
        }
        toEnd.forEach(connection -> connection.end(Connection.Ending.CUT_OFF));
    }

    public boolean isCutOff() {
        return cutOff || bytesUsed.get() >= egressLimitBytes;
    }

    public long bytesUsed() {
        return bytesUsed.get();
    }

    public int openConnections() {
        return open.size();
    }

    public int maxConnections() {
        return maxConnections;
    }

    public String egressLimitText() {
        return Sizes.format(egressLimitBytes);
    }
}
