package dev.claudecage.cli;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.claudecage.config.ConfigKey;
import dev.claudecage.config.EffectiveConfig;
import dev.claudecage.json.Json;
import dev.claudecage.net.EgressPolicy;
import dev.claudecage.net.HostRule;
import dev.claudecage.net.cage.GatewayPorts;
import dev.claudecage.net.cage.HostListeners;
import dev.claudecage.net.cage.TcpRelays;
import dev.claudecage.net.proxy.RelayRoute;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

@Command(name = "config",
        description = {
                "Prints the effective configuration: each key, its value and where the value comes from "
                        + "(built-in default < /etc/claude-cage/config.yaml < ~/.config/claude-cage/config.yaml "
                        + "< its section for this project folder, written by claude-cage init "
                        + "< CLAUDE_CAGE_* environment variables). allowed_hosts shows each preset's hosts, "
                        + "and the preset that brought them, and the gateway port of each entry reached through "
                        + "a TCP relay (an exact entry on a port other than 80 and 443).",
                "With --validate, checks one config file instead. Exit code 2 when something is invalid."},
        sortOptions = false)
final class ConfigCommand extends BaseCommand {

    private static final String EMPTY_VALUE = "(none)";
    private static final String ALLOWED_HOSTS = ConfigKey.ALLOWED_HOSTS.yamlName();

    @Option(names = "--json", description = "Print {\"KEY\": {\"value\": ..., \"source\": ...}} instead of a table.")
    boolean json;

    @Option(names = "--validate", paramLabel = "FILE",
            description = "Check FILE on its own over the built-in defaults and print 'FILE: valid'.")
    Path validate;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (validate != null) {
            if (json) {
                throw new ParameterException(spec.commandLine(), "--json and --validate cannot be used together");
            }
            context.configLoader().validateFile(validate);
            out.println(validate + ": valid");
        } else {
            EffectiveConfig effective = context.configLoader().load(Map.of());
            out.print(json ? asJson(effective) : asTable(effective));
        }
        out.flush();
        return 0;
    }

    /**
     * One key in the JSON output; an absent value (rootfs) is written as null rather than left out. allowed_hosts
     * has, besides, the entries that presets brought, each with its preset, and the gateway port of each entry
     * reached through a TCP relay (NAME:PORT to the port the cage connects to on its gateway).
     */
    record JsonEntry(@JsonInclude(JsonInclude.Include.ALWAYS) Object value, String source,
            @JsonInclude(JsonInclude.Include.NON_EMPTY) Map<String, String> presets,
            @JsonInclude(JsonInclude.Include.NON_EMPTY) Map<String, Integer> tcpRelays) {
    }

    static String asJson(EffectiveConfig effective) {
        Map<String, JsonEntry> entries = new LinkedHashMap<>();
        Map<String, Integer> relays = new LinkedHashMap<>();
        relays(effective).forEach(route -> relays.put(route.host() + ":" + route.port(), route.listenPort()));
        effective.config().yamlValues().forEach((key, value) -> entries.put(key, key.equals(ALLOWED_HOSTS)
                ? new JsonEntry(value, effective.origins().get(key), effective.allowedHostPresets(), relays)
                : new JsonEntry(value, effective.origins().get(key), Map.of(), Map.of())));
        return Json.write(entries);
    }

    /** The TCP relays a root-mode cage of this configuration gets on this host now, as its launcher plans them. */
    private static List<RelayRoute> relays(EffectiveConfig effective) {
        return TcpRelays.plan(EgressPolicy.from(effective.config(), false), GatewayPorts.STANDARD,
                HostListeners.portsOnAllAddresses());
    }

    /** An allowed_hosts entry as the table shows it: with its gateway port when a TCP relay reaches it. */
    private static String withRelay(String entry, List<RelayRoute> relays) {
        HostRule rule = HostRule.parse(entry);
        return relays.stream().filter(route -> route.host().equals(rule.pattern()) && route.port() == rule.port())
                .findFirst().map(route -> entry + " (TCP relay on gateway port " + route.listenPort() + ")").orElse(entry);
    }

    /**
     * KEY, VALUE and SOURCE columns. allowed_hosts takes a row per entry, so that each shows where it came from:
     * a preset names itself before the layer that named the preset.
     */
    static String asTable(EffectiveConfig effective) {
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("KEY", "VALUE", "SOURCE"));
        List<RelayRoute> relays = relays(effective);
        effective.config().yamlValues().forEach((key, value) -> {
            String source = effective.origins().get(key);
            if (key.equals(ALLOWED_HOSTS) && value instanceof List<?> hosts && !hosts.isEmpty()) {
                for (int i = 0; i < hosts.size(); i++) {
                    String host = String.valueOf(hosts.get(i));
                    String preset = effective.allowedHostPresets().get(host);
                    rows.add(List.of(i == 0 ? key : "", withRelay(host, relays),
                            preset == null ? source : preset + " in " + source));
                }
            } else {
                rows.add(List.of(key, display(value), source));
            }
        });
        int keyWidth = rows.stream().mapToInt(row -> row.get(0).length()).max().orElse(0);
        int valueWidth = rows.stream().mapToInt(row -> row.get(1).length()).max().orElse(0);
        String format = "%-" + keyWidth + "s  %-" + valueWidth + "s  %s%n";
        return rows.stream().map(row -> String.format(format, row.get(0), row.get(1), row.get(2)))
                .collect(Collectors.joining());
    }

    private static String display(Object value) {
        if (value instanceof Collection<?> list) {
            return list.isEmpty() ? EMPTY_VALUE : list.stream().map(String::valueOf).collect(Collectors.joining(","));
        }
        return value == null ? EMPTY_VALUE : value.toString();
    }
}
