package dev.claudecage.workspace;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What a rollback does to the copy's work tree to make it a checkpoint's again, worked out from
 * the checkpoint's entries and what the copy holds now ({@link CopySnapshot}): which paths to
 * remove (files and links the checkpoint does not have, folders none of its entries lies in, and
 * what stands where the checkpoint has a folder), which folders to make, and which files and links
 * to write (missing or different). What checkpoints leave out is left alone unless it is in the way.
 *
 * @param removals paths to remove whole, none below another
 * @param folders  folders to make, each after the one holding it
 * @param writes   entries to write, by path
 */
record RollbackPlan(List<String> removals, SortedSet<String> folders, SortedMap<String, CopySnapshot.Entry> writes) {

    RollbackPlan {
        removals = List.copyOf(removals);
        folders = Collections.unmodifiableSortedSet(new TreeSet<>(folders));
        writes = Collections.unmodifiableSortedMap(new TreeMap<>(writes));
    }

    static RollbackPlan between(Map<String, CopySnapshot.Entry> checkpoint, CopySnapshot.Tree now) {
        SortedSet<String> needed = new TreeSet<>();
        checkpoint.keySet().forEach(path -> needed.addAll(folders(path)));
        SortedSet<String> doomed = new TreeSet<>();
        now.folders().stream().filter(folder -> !needed.contains(folder)).forEach(doomed::add);
        now.entries().keySet().stream().filter(path -> needed.contains(path) || !checkpoint.containsKey(path))
                .forEach(doomed::add);
        List<String> removals = new ArrayList<>();
        doomed.stream().filter(path -> folders(path).stream().noneMatch(doomed::contains)).forEach(removals::add);
        SortedSet<String> folders = new TreeSet<>(needed);
        folders.removeAll(now.folders());
        SortedMap<String, CopySnapshot.Entry> writes = new TreeMap<>();
        checkpoint.forEach((path, entry) -> {
            if (!entry.equals(now.entries().get(path))) {
                writes.put(path, entry);
            }
        });
        return new RollbackPlan(removals, folders, writes);
    }

    /** The folders {@code path} lies in: "a", "a/b" for "a/b/c". */
    private static List<String> folders(String path) {
        List<String> folders = new ArrayList<>();
        for (int slash = path.indexOf('/'); slash > 0; slash = path.indexOf('/', slash + 1)) {
            folders.add(path.substring(0, slash));
        }
        return folders;
    }
}
