package dev.claudecage.session;

import dev.claudecage.host.IdBlock;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Everything on the host that bears a cage's name, as found at one moment: containers under our
 * runtime state roots, per-cage folders in /run/claude-cage, cgroups, network namespaces, veth
 * links, nft tables, mounts, and the cages that hold a block of host ids. {@link CleanupPlan}
 * decides what of it to remove.
 */
record HostLeftovers(List<RuntimeContainer> containers, List<Path> runDirs, List<Path> netDirs, List<Path> cgroups,
                     List<String> netns, List<Link> links, List<NftTable> nftTables, List<Path> mounts,
                     Map<String, IdBlock> idBlocks) {

    /** The prefix of every network namespace a cage gets; the rest is the container id. */
    static final String NETNS_PREFIX = "claude-cage-";
    /** nft tables that claude-cage puts in the host's namespace start with this. */
    static final String NFT_PREFIX = "claude_cage";

    HostLeftovers {
        containers = List.copyOf(containers);
        runDirs = List.copyOf(runDirs);
        netDirs = List.copyOf(netDirs);
        cgroups = List.copyOf(cgroups);
        netns = List.copyOf(netns);
        links = List.copyOf(links);
        nftTables = List.copyOf(nftTables);
        mounts = List.copyOf(mounts);
        idBlocks = Map.copyOf(idBlocks);
    }

    /** A veth end in the host's namespace; {@code peerNetns} names its peer's namespace, or is null. */
    record Link(String name, String peerNetns) {
    }

    record NftTable(String family, String name) {
    }
}
