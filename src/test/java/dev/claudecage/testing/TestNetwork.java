package dev.claudecage.testing;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A test's own small internet: hosts in network namespaces the test creates, each joined to the
 * host by a veth pair with addresses of the test's choosing, outside the cages' pools
 * (10.214.0.0/16 and fd63:6167:6501::/48). Nothing here is anyone else's address.
 * {@link #close()} removes every namespace and link it made.
 */
public final class TestNetwork implements AutoCloseable {

    private final String tag;
    private final List<TestHost> hosts = new ArrayList<>();

    /** @param tag a short word that makes this network's names unique (at most 5 characters) */
    public TestNetwork(String tag) {
        if (tag.length() > 5) {
            throw new IllegalArgumentException("tag too long for interface names: " + tag);
        }
        this.tag = tag;
    }

    /** A host on its own link: the host side is 10.214.N.1, the test host 10.214.N.2 (and ::1 / ::2). */
    public TestHost addHost(String name) throws IOException, InterruptedException {
        int n = hosts.size() + 1 + Math.floorMod(tag.hashCode(), 200);
        TestHost host = new TestHost(name, "cagetest-" + tag + "-" + name, "ct" + tag + n, n);
        hosts.add(host);
        String ns = host.namespace();
        String hostSide = host.hostInterface();
        String peer = hostSide + "p";
        sh("ip", "netns", "add", ns);
        sh("ip", "link", "add", hostSide, "type", "veth", "peer", "name", peer);
        sh("ip", "link", "set", peer, "netns", ns);
        sh("ip", "-n", ns, "link", "set", peer, "name", "eth0");
        sh("ip", "-n", ns, "link", "set", "lo", "up");
        sh("ip", "addr", "add", "10.214." + n + ".1/30", "dev", hostSide);
        sh("ip", "addr", "add", "fd63:6167:6501:" + Integer.toHexString(n) + "::1/64", "dev", hostSide, "nodad");
        sh("ip", "link", "set", hostSide, "up");
        sh("ip", "-n", ns, "addr", "add", host.address4() + "/30", "dev", "eth0");
        sh("ip", "-n", ns, "addr", "add", host.address6() + "/64", "dev", "eth0", "nodad");
        sh("ip", "-n", ns, "link", "set", "eth0", "up");
        sh("ip", "-n", ns, "route", "add", "default", "via", "10.214." + n + ".1");
        sh("ip", "-n", ns, "-6", "route", "add", "default", "via", "fd63:6167:6501:" + Integer.toHexString(n) + "::1");
        return host;
    }

    /** One test host. */
    public record TestHost(String name, String namespace, String hostInterface, int n) {
        public String address4() {
            return "10.214." + n + ".2";
        }

        public String address6() {
            return "fd63:6167:6501:" + Integer.toHexString(n) + "::2";
        }
    }

    @Override
    public void close() throws IOException {
        try {
            for (TestHost host : hosts) {
                run("ip", "netns", "delete", host.namespace());
                run("ip", "link", "delete", host.hostInterface());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while removing the test network", e);
        }
        hosts.clear();
    }

    private static void sh(String... command) throws IOException, InterruptedException {
        int code = run(command);
        if (code != 0) {
            throw new IOException(String.join(" ", command) + " failed with " + code);
        }
    }

    private static int run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException(String.join(" ", command) + " timed out");
        }
        return process.exitValue();
    }
}
