package dev.claudecage.cli;

import dev.claudecage.json.Json;
import dev.claudecage.runtime.CagePolicy;
import dev.claudecage.workspace.NestedRepositories;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.session.CgroupStats;
import dev.claudecage.config.ConfigKey;
import dev.claudecage.config.Durations;
import dev.claudecage.host.UntrustedText;
import dev.claudecage.session.SessionConfig;
import dev.claudecage.session.SessionName;
import dev.claudecage.session.SessionReport;
import dev.claudecage.session.SessionView;
import dev.claudecage.session.Sessions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.util.List;
import java.util.Map;

@Command(name = "status",
        description = "Shows a session: its state (checked against the host, so it is true after a crash), uptime, "
                + "processes, image or rootfs, mode, network policy, mounts, the cage's live memory, CPU and "
                + "process numbers, the desktop's address and password (desktop mode), and the recorded policy "
                + "with its hash (ALTERED when the record no longer matches it), and a WARNING for each git "
                + "repository the cage left in a writable mount whose configuration or hooks run programs.")
final class StatusCommand extends BaseCommand {

    @Mixin
    SessionArgument session;

    @Option(names = "--json", description = "Print as JSON.")
    boolean json;

    @Override
    public Integer call() {
        return print(context, session.name(), json, spec.commandLine().getOut());
    }

    /** The status, as this command prints it: also for a plain {@code status NAME} answered without picocli ({@link PlainViews}). */
    static int print(Context context, SessionName name, boolean json, PrintWriter out) {
        SessionReport report = report(context, name);
        out.print(json ? Json.write(report) : render(report));
        out.flush();
        return 0;
    }

    /** The session's report, checked against the host, with its workspace warnings. */
    static SessionReport report(Context context, SessionName name) {
        ProcessRunner runner = context.runner();
        Sessions sessions = context.sessions();
        SessionView view = sessions.view(name);
        Map<String, Object> recorded = view.record().config();
        // Only a writable mount can hold such a repository. A session recorded with no mounts (the
        // built-in default, which is all SessionConfig loads under the recorded values) has none to
        // look in, so its configuration is not loaded and validated again for nothing: that was a
        // fifth of a status.
        List<String> warnings = recordedWithoutMounts(recorded) ? List.of()
                : NestedRepositories.inWritableMounts(SessionConfig.load(recorded), runner)
                        .stream().map(NestedRepositories.Finding::warning).toList();
        return sessions.report(view).withWorkspaceWarnings(warnings);
    }

    static boolean recordedWithoutMounts(Map<String, Object> recorded) {
        Object mounts = recorded.get(ConfigKey.MOUNTS.yamlName());
        return mounts == null || mounts instanceof List<?> list && list.isEmpty();
    }

    static String render(SessionReport report) {
        StringBuilder text = new StringBuilder();
        row(text, "name", report.name());
        row(text, "state", report.state() + (report.problem() == null ? "" : " (" + report.problem() + ")"));
        if (report.uptimeSeconds() != null) {
            row(text, "uptime", Durations.format(Duration.ofSeconds(report.uptimeSeconds())));
        }
        row(text, "created", report.createdAt());
        row(text, "started", report.startedAt());
        row(text, "ended", report.endedAt());
        row(text, "container", report.containerId());
        row(text, "supervisor pid", report.supervisorPid());
        row(text, "cage pid", report.cagePid());
        row(text, report.rootfs() != null ? "rootfs" : "image", report.rootfs() != null ? report.rootfs() : report.image());
        row(text, "mode", report.mode());
        row(text, "network", report.network());
        row(text, "mounts", report.mounts().isEmpty() ? "(none)" : String.join(", ", report.mounts()));
        row(text, "home", report.persist() ? report.home() + " (persisted)"
                : report.ephemeral() ? "tmpfs (ephemeral session)" : "tmpfs (not persisted)");
        row(text, "command", String.join(" ", report.command()));
        row(text, "desktop", report.desktopUrl());
        row(text, "password", report.desktopPassword());
        if (report.policy() != null) {
            CagePolicy policy = report.policy().policy();
            row(text, "policy", "sha256:" + report.policy().sha256() + (report.policyIntact() ? ""
                    : " (ALTERED: the file no longer matches its hash)"));
            row(text, "image id", policy.imageId() == null ? "(rootfs " + policy.rootfs() + ")" : policy.imageId());
            row(text, "allowed hosts", policy.allowedHosts().isEmpty() ? "(none)" : String.join(", ", policy.allowedHosts()));
            row(text, "protected", policy.protectedPaths().isEmpty() ? "(none)" : String.join(", ", policy.protectedPaths()));
            for (String mount : policy.mounts()) {
                row(text, "cage mount", mount);
            }
        }
        if (report.workspaceWarnings() != null) {
            report.workspaceWarnings().forEach(warning -> row(text, "WARNING", warning));
        }
        CgroupStats resources = report.resources();
        if (resources != null) {
            row(text, "memory", bytes(resources.memoryBytes()) + " of " + (resources.memoryLimitBytes() == null
                    ? "unlimited" : bytes(resources.memoryLimitBytes())));
            row(text, "cpu time", resources.cpuSeconds() == null ? "?" : decimal(resources.cpuSeconds(), 2) + "s");
            row(text, "processes", (resources.pids() == null ? "?" : resources.pids().toString()) + " of "
                    + (resources.pidsLimit() == null ? "unlimited" : resources.pidsLimit().toString()));
        }
        return text.toString();
    }

    private static void row(StringBuilder text, String label, Object value) {
        if (value != null) {
            // The record and policy are the host's, but read from files: each value is shown escaped, on one line.
            ListCommand.padded(text, label + ":", 15).append(' ').append(UntrustedText.escapeLine(String.valueOf(value)))
                    .append(System.lineSeparator());
        }
    }

    static String bytes(Long bytes) {
        if (bytes == null) {
            return "?";
        }
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? bytes + " B" : decimal(value, 1) + " " + units[unit];
    }

    /**
     * {@code value} with {@code decimals} digits after the point, rounded half up as {@code %.Nf} does;
     * without the Formatter, whose first number loads the JDK's locale data (about 8 ms of a status).
     */
    static String decimal(double value, int decimals) {
        return BigDecimal.valueOf(value).setScale(decimals, RoundingMode.HALF_UP).toPlainString();
    }
}
