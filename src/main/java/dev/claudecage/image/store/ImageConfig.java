package dev.claudecage.image.store;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An image's configuration in the OCI image-config JSON form (application/vnd.oci.image.config.v1+json).
 * {@code rootfs.diff_ids} lists claude-cage's layer digests, bottom first: digests of the layer
 * directories (see {@link LayerDigest}), not of tar streams. The settings are those Docker
 * records (volumes, health check, stop signal and ONBUILD triggers included); fields a cage has
 * no use for (ArgsEscaped, OnBuild's Windows cousins, ...) are dropped from imported images.
 *
 * @param author MAINTAINER's value, or null
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ImageConfig(String architecture, String os, String created, String author, Settings config, RootFs rootfs,
                          List<History> history) {

    public static final String LINUX = "linux";

    public ImageConfig {
        config = config == null ? Settings.EMPTY : config;
        rootfs = rootfs == null ? new RootFs("layers", List.of()) : rootfs;
        history = history == null ? List.of() : List.copyOf(history);
    }

    public List<Digest> layers() {
        return rootfs.diffIds();
    }

    public ImageConfig withSettings(Settings newSettings) {
        return new ImageConfig(architecture, os, created, author, newSettings, rootfs, history);
    }

    public ImageConfig withAuthor(String newAuthor) {
        return new ImageConfig(architecture, os, created, newAuthor, config, rootfs, history);
    }

    /** This image's settings and history over other layers, for this host (an import, a pull, an export). */
    public ImageConfig withLayers(String newArchitecture, String newOs, RootFs newRootfs) {
        return new ImageConfig(newArchitecture, newOs, created, author, config, newRootfs, history);
    }

    /** One more step: a layer (or none, for a step that changes only the settings) and its history entry. */
    public ImageConfig withStep(Digest layer, History entry) {
        List<Digest> layers = new ArrayList<>(rootfs.diffIds());
        if (layer != null) {
            layers.add(layer);
        }
        List<History> entries = new ArrayList<>(history);
        entries.add(entry);
        return new ImageConfig(architecture, os, entry.created(), author, config, new RootFs(rootfs.type(), layers), entries);
    }

    /**
     * What a container of this image runs with. Null lists mean "not set" (an inherited CMD, say),
     * as in Docker; field names are the OCI ones, and Docker's for the fields OCI does not name
     * (Healthcheck, OnBuild).
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Settings(@JsonProperty("User") String user,
                           @JsonProperty("Env") List<String> env,
                           @JsonProperty("Entrypoint") List<String> entrypoint,
                           @JsonProperty("Cmd") List<String> cmd,
                           @JsonProperty("WorkingDir") String workingDir,
                           @JsonProperty("ExposedPorts") @JsonInclude(JsonInclude.Include.NON_EMPTY)
                           Map<String, Map<String, Object>> exposedPorts,
                           @JsonProperty("Labels") @JsonInclude(JsonInclude.Include.NON_EMPTY) Map<String, String> labels,
                           @JsonProperty("Shell") List<String> shell,
                           @JsonProperty("Volumes") @JsonInclude(JsonInclude.Include.NON_EMPTY)
                           Map<String, Map<String, Object>> volumes,
                           @JsonProperty("Healthcheck") Healthcheck healthcheck,
                           @JsonProperty("StopSignal") String stopSignal,
                           @JsonProperty("OnBuild") @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> onBuild) {

        public static final Settings EMPTY = new Settings(null, List.of(), null, null, null, Map.of(), Map.of(), null,
                Map.of(), null, null, List.of());

        public Settings {
            env = env == null ? List.of() : List.copyOf(env);
            entrypoint = entrypoint == null ? null : List.copyOf(entrypoint);
            cmd = cmd == null ? null : List.copyOf(cmd);
            exposedPorts = exposedPorts == null ? Map.of() : Map.copyOf(exposedPorts);
            labels = labels == null ? Map.of() : Map.copyOf(labels);
            shell = shell == null ? null : List.copyOf(shell);
            volumes = volumes == null ? Map.of() : Map.copyOf(volumes);
            onBuild = onBuild == null ? List.of() : List.copyOf(onBuild);
        }

        /** The environment as a map, later entries winning, in order. */
        public Map<String, String> envMap() {
            Map<String, String> map = new LinkedHashMap<>();
            for (String entry : env) {
                int equals = entry.indexOf('=');
                map.put(equals < 0 ? entry : entry.substring(0, equals), equals < 0 ? "" : entry.substring(equals + 1));
            }
            return map;
        }

        public Settings withEnv(String key, String value) {
            Map<String, String> map = envMap();
            map.put(key, value);
            List<String> newEnv = map.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
            return new Settings(user, newEnv, entrypoint, cmd, workingDir, exposedPorts, labels, shell, volumes, healthcheck,
                    stopSignal, onBuild);
        }

        public Settings withUser(String newUser) {
            return new Settings(newUser, env, entrypoint, cmd, workingDir, exposedPorts, labels, shell, volumes, healthcheck,
                    stopSignal, onBuild);
        }

        /** Docker's rule: setting ENTRYPOINT clears an inherited CMD. */
        public Settings withEntrypoint(List<String> newEntrypoint) {
            return new Settings(user, env, newEntrypoint, null, workingDir, exposedPorts, labels, shell, volumes, healthcheck,
                    stopSignal, onBuild);
        }

        public Settings withCmd(List<String> newCmd) {
            return new Settings(user, env, entrypoint, newCmd, workingDir, exposedPorts, labels, shell, volumes, healthcheck,
                    stopSignal, onBuild);
        }

        public Settings withWorkingDir(String newWorkingDir) {
            return new Settings(user, env, entrypoint, cmd, newWorkingDir, exposedPorts, labels, shell, volumes, healthcheck,
                    stopSignal, onBuild);
        }

        public Settings withExposedPort(String port) {
            Map<String, Map<String, Object>> ports = new TreeMap<>(exposedPorts);
            ports.put(port, Map.of());
            return new Settings(user, env, entrypoint, cmd, workingDir, ports, labels, shell, volumes, healthcheck, stopSignal,
                    onBuild);
        }

        public Settings withLabel(String key, String value) {
            Map<String, String> newLabels = new TreeMap<>(labels);
            newLabels.put(key, value);
            return new Settings(user, env, entrypoint, cmd, workingDir, exposedPorts, newLabels, shell, volumes, healthcheck,
                    stopSignal, onBuild);
        }

        public Settings withShell(List<String> newShell) {
            return new Settings(user, env, entrypoint, cmd, workingDir, exposedPorts, labels, newShell, volumes, healthcheck,
                    stopSignal, onBuild);
        }

        public Settings withVolume(String path) {
            Map<String, Map<String, Object>> newVolumes = new TreeMap<>(volumes);
            newVolumes.put(path, Map.of());
            return new Settings(user, env, entrypoint, cmd, workingDir, exposedPorts, labels, shell, newVolumes, healthcheck,
                    stopSignal, onBuild);
        }

        public Settings withHealthcheck(Healthcheck newHealthcheck) {
            return new Settings(user, env, entrypoint, cmd, workingDir, exposedPorts, labels, shell, volumes, newHealthcheck,
                    stopSignal, onBuild);
        }

        public Settings withStopSignal(String newStopSignal) {
            return new Settings(user, env, entrypoint, cmd, workingDir, exposedPorts, labels, shell, volumes, healthcheck,
                    newStopSignal, onBuild);
        }

        /** {@code triggers} replace the ONBUILD list (an empty list clears it, as after the triggers ran). */
        public Settings withOnBuild(List<String> triggers) {
            return new Settings(user, env, entrypoint, cmd, workingDir, exposedPorts, labels, shell, volumes, healthcheck,
                    stopSignal, triggers);
        }
    }

    /**
     * A health check as Docker records it: {@code Test} is {@code ["NONE"]}, {@code ["CMD", args...]}
     * or {@code ["CMD-SHELL", script]}; durations in nanoseconds, absent for Docker's defaults
     * (interval and timeout 30 s, start period 0, start interval 5 s, 3 retries).
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Healthcheck(@JsonProperty("Test") List<String> test,
                              @JsonProperty("Interval") Long interval,
                              @JsonProperty("Timeout") Long timeout,
                              @JsonProperty("StartPeriod") Long startPeriod,
                              @JsonProperty("StartInterval") Long startInterval,
                              @JsonProperty("Retries") Integer retries) {

        public Healthcheck {
            test = test == null ? List.of() : List.copyOf(test);
        }

        /** Whether the check is switched off ({@code HEALTHCHECK NONE}) or has no command. */
        public boolean none() {
            return test.isEmpty() || test.get(0).equals("NONE");
        }
    }

    public record RootFs(String type, @JsonProperty("diff_ids") List<Digest> diffIds) {
        public RootFs {
            diffIds = List.copyOf(diffIds);
        }
    }

    /** @param emptyLayer true when the step changed only the settings */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record History(String created, @JsonProperty("created_by") String createdBy,
                          @JsonProperty("empty_layer") Boolean emptyLayer) {
    }
}
