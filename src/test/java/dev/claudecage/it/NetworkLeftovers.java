package dev.claudecage.it;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Network state that names claude-cage or its tests: namespaces, links and nft tables. */
final class NetworkLeftovers {

    private NetworkLeftovers() {
    }

    static List<String> list() throws IOException, InterruptedException {
        List<String> found = new ArrayList<>();
        for (String line : output("ip", "netns", "list")) {
            if (line.startsWith("claude-cage-") || line.startsWith("cagetest-")) {
                found.add("netns " + line.split(" ")[0]);
            }
        }
        for (String line : output("ip", "-o", "link", "show")) {
            String name = line.split(": ")[1].split("@")[0];
            if (name.startsWith("cgh") || name.startsWith("cgc") || name.startsWith("ct")) {
                found.add("link " + name);
            }
        }
        for (String line : output("nft", "list", "tables")) {
            if (line.contains("claude_cage")) {
                found.add("nft " + line);
            }
        }
        return found;
    }

    /** All of it but the test's own network (made by {@code new TestNetwork(tag)}, kept for the class's tests). */
    static List<String> listExcept(String testNetworkTag) throws IOException, InterruptedException {
        return list().stream().filter(item -> !item.contains(testNetworkTag)).toList();
    }

    private static List<String> output(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        List<String> lines = new String(process.getInputStream().readAllBytes()).lines().toList();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
        return lines;
    }
}
