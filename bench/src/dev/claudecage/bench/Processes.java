package dev.claudecage.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/** Reading processes and their memory from /proc: resident set (RSS) and proportional set (PSS). */
final class Processes {

    private Processes() {
    }

    /** A process and what it holds in memory, in KiB. */
    record Memory(long pid, String name, long rssKib, long pssKib) {
    }

    /** The pids whose command line (arguments joined with spaces) matches. */
    static List<Long> matching(Predicate<String> commandLine) {
        List<Long> pids = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path entry : entries) {
                commandLine(entry).filter(commandLine).ifPresent(line -> pids.add(Long.parseLong(entry.getFileName().toString())));
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc: " + e.getMessage(), e);
        }
        return pids;
    }

    static Optional<String> commandLine(Path procEntry) {
        try {
            byte[] raw = Files.readAllBytes(procEntry.resolve("cmdline"));
            return Optional.of(new String(raw, StandardCharsets.UTF_8).replace('\0', ' ').strip());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The process and all its descendants. */
    static List<Long> tree(long root) {
        Map<Long, List<Long>> children = new HashMap<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path entry : entries) {
                long pid = Long.parseLong(entry.getFileName().toString());
                long parent = parent(pid);
                if (parent > 0) {
                    children.computeIfAbsent(parent, key -> new ArrayList<>()).add(pid);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc: " + e.getMessage(), e);
        }
        List<Long> result = new ArrayList<>();
        List<Long> queue = new ArrayList<>(List.of(root));
        while (!queue.isEmpty()) {
            long pid = queue.remove(queue.size() - 1);
            result.add(pid);
            queue.addAll(children.getOrDefault(pid, List.of()));
        }
        return result;
    }

    private static long parent(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("PPid:")) {
                    return Long.parseLong(line.substring(5).strip());
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    static Memory memory(long pid) {
        Path dir = Path.of("/proc", Long.toString(pid));
        long rss = 0;
        long pss = 0;
        String name = "?";
        try {
            for (String line : Files.readAllLines(dir.resolve("status"))) {
                if (line.startsWith("VmRSS:")) {
                    rss = kib(line);
                } else if (line.startsWith("Name:")) {
                    name = line.substring(5).strip();
                }
            }
            for (String line : Files.readAllLines(dir.resolve("smaps_rollup"))) {
                if (line.startsWith("Pss:")) {
                    pss = kib(line);
                }
            }
        } catch (IOException e) {
            // the process ended meanwhile: it holds nothing
        }
        return new Memory(pid, name, rss, pss);
    }

    static long[] treeMemory(long root) {
        long rss = 0;
        long pss = 0;
        for (long pid : tree(root)) {
            Memory memory = memory(pid);
            rss += memory.rssKib();
            pss += memory.pssKib();
        }
        return new long[] {rss, pss};
    }

    /** MemAvailable from /proc/meminfo, KiB. */
    static long memAvailableKib() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) {
                    return kib(line);
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return -1;
    }

    private static long kib(String line) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
    }
}
