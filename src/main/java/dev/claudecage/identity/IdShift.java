package dev.claudecage.identity;

import dev.claudecage.host.HostIds;
import dev.claudecage.host.IdBlock;
import dev.claudecage.rootless.IdMap;

import java.util.List;

/**
 * How an idmapped mount shows its files: each entry takes {@code count} ids from {@code inside}, as
 * stored on disk, to the host ids from {@code outside}, which the cage sees through its own user
 * namespace; what the cage writes goes the other way. Ids not in an entry show as nobody and cannot
 * be written.
 */
public record IdShift(IdMap uids, IdMap gids) {

    /** A cage's whole block: stored id N is the cage's id N (the image's root, a persisted home). */
    public static IdShift wholeBlock(IdBlock block) {
        return new IdShift(new IdMap(List.of(new IdMap.Entry(0, block.uid(), IdBlock.SIZE))),
                new IdMap(List.of(new IdMap.Entry(0, block.gid(), IdBlock.SIZE))));
    }

    /** The files of {@code owner} as the host ids {@code cageUser}, and nothing else (a shifted workspace). */
    public static IdShift onto(HostIds owner, HostIds cageUser) {
        return new IdShift(new IdMap(List.of(new IdMap.Entry(owner.uid(), cageUser.uid(), 1))),
                new IdMap(List.of(new IdMap.Entry(owner.gid(), cageUser.gid(), 1))));
    }

    /** As /proc/PID/uid_map takes it: one "inside outside count" line per entry. */
    static String mapFile(IdMap map) {
        StringBuilder lines = new StringBuilder();
        for (IdMap.Entry entry : map.entries()) {
            lines.append(entry.inside()).append(' ').append(entry.outside()).append(' ').append(entry.count()).append('\n');
        }
        return lines.toString();
    }
}
