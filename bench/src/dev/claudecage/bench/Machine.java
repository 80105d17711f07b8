package dev.claudecage.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** What the numbers were measured on: they mean little without it. */
final class Machine {

    private Machine() {
    }

    static Map<String, Object> describe(Bench.Options options) {
        Map<String, Object> machine = new LinkedHashMap<>();
        int cpus = Runtime.getRuntime().availableProcessors();
        long memoryKib = meminfo("MemTotal:");
        String kernel = read("/proc/sys/kernel/osrelease");
        String distro = osRelease();
        String cpuModel = cpuModel();
        machine.put("nproc", cpus);
        machine.put("cpu_model", cpuModel);
        machine.put("memory_gib", Report.round(memoryKib / 1024.0 / 1024.0));
        machine.put("kernel", kernel);
        machine.put("os", distro);
        machine.put("cgroup", Files.exists(Path.of("/sys/fs/cgroup/cgroup.controllers"))
                ? "v2 (unified)" : Files.exists(Path.of("/sys/fs/cgroup/unified")) ? "hybrid (v1 + v2)" : "v1");
        machine.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        machine.put("runc", firstLine(Trial.Commands.outputOrNull(List.of("runc", "--version"))));
        machine.put("runsc", firstLine(Trial.Commands.outputOrNull(List.of("runsc", "--version"))));
        machine.put("claude_cage", firstLine(Trial.Commands.outputOrNull(List.of(options.cage().toString(), "--version"))));
        if (options.docker()) {
            machine.put("docker", Trial.Commands.outputOrNull(List.of(options.dockerBin(), "-H", options.dockerHost(),
                    "version", "--format", "client {{.Client.Version}}, engine {{.Server.Version}}, "
                            + "containerd {{range .Server.Components}}{{if eq .Name \"containerd\"}}{{.Version}}{{end}}{{end}}")));
            machine.put("docker_storage_driver", Trial.Commands.outputOrNull(List.of(options.dockerBin(), "-H",
                    options.dockerHost(), "info", "--format", "{{.Driver}}")));
        } else {
            machine.put("docker", "unavailable: " + options.dockerMissing());
        }
        machine.put("load_average_at_start", read("/proc/loadavg"));
        List<String> summary = new ArrayList<>();
        summary.add(cpus + " CPUs (" + cpuModel + ")");
        summary.add(String.format(Locale.ROOT, "%.1f GiB", memoryKib / 1024.0 / 1024.0));
        summary.add("kernel " + kernel);
        summary.add(distro);
        summary.add("load " + read("/proc/loadavg").split(" ")[0]);
        machine.put("summary", String.join(", ", summary));
        return machine;
    }

    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(line -> line.startsWith("model name"))
                    .map(line -> line.substring(line.indexOf(':') + 1).strip()).findFirst().orElse("unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static String osRelease() {
        try {
            return Files.readAllLines(Path.of("/etc/os-release")).stream().filter(line -> line.startsWith("PRETTY_NAME="))
                    .map(line -> line.substring("PRETTY_NAME=".length()).replace("\"", "")).findFirst().orElse("unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static long meminfo(String key) {
        try {
            return Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(line -> line.startsWith(key))
                    .map(line -> Long.parseLong(line.replaceAll("[^0-9]", ""))).findFirst().orElse(0L);
        } catch (IOException e) {
            return 0;
        }
    }

    private static String read(String file) {
        try {
            return Files.readString(Path.of(file)).strip();
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static String firstLine(String text) {
        return text == null ? "unavailable" : text.lines().findFirst().orElse("");
    }
}
