package dev.claudecage.config;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The allowed_hosts presets: {@code preset:NAME} in allowed_hosts (or {@code --allowed-host}) stands for the
 * exact names and ports an ecosystem's usual client reaches, so that a first run in a Node, Python, Go, Rust or
 * Java project does not fail at its first download. Each entry is checked like one the user wrote, wildcards
 * included; docs/network.md lists them with the reason for each name.
 */
public final class HostPresets {

    /** What an allowed_hosts entry starts with to name a preset. */
    public static final String PREFIX = "preset:";

    /**
     * One preset.
     *
     * @param name  what follows {@code preset:}
     * @param hosts allowed_hosts entries: NAME or NAME:PORT (443 when no port is given)
     */
    public record Preset(String name, String purpose, List<String> hosts) {
        public Preset {
            hosts = List.copyOf(hosts);
        }

        /** How an allowed_hosts entry names this preset: preset:npm. */
        public String entry() {
            return PREFIX + name;
        }
    }

    /** Every preset, in the order they are documented. */
    public static final List<Preset> ALL = List.of(
            // Tarballs come from the registry host itself; yarn 1 writes registry.yarnpkg.com into its lockfiles.
            new Preset("npm", "npm, yarn, pnpm and corepack: the npm registry",
                    List.of("registry.npmjs.org", "registry.yarnpkg.com")),
            new Preset("pypi", "pip, uv, poetry: the index and the files it links to",
                    List.of("pypi.org", "files.pythonhosted.org")),
            // Archive downloads redirect to codeload, release assets to release-assets (objects before 2025).
            new Preset("github", "git over HTTPS and ssh, gh, archives, release assets and raw files",
                    List.of("github.com", "github.com:22", "api.github.com", "codeload.github.com",
                            "objects.githubusercontent.com", "release-assets.githubusercontent.com",
                            "raw.githubusercontent.com")),
            // Debian's sources name http:// mirrors (apt checks the signatures itself); https ones work too.
            new Preset("debian", "apt and apt-get source: Debian's mirror network and its security archive",
                    List.of("deb.debian.org", "deb.debian.org:80", "security.debian.org", "security.debian.org:80")),
            new Preset("maven", "Maven, Gradle and the Maven wrapper: Maven Central",
                    List.of("repo.maven.apache.org", "repo1.maven.org")),
            // The plugin portal redirects artifacts to plugins-artifacts; services redirects to downloads.
            new Preset("gradle", "Gradle's plugin portal and the Gradle wrapper's distributions",
                    List.of("plugins.gradle.org", "plugins-artifacts.gradle.org", "services.gradle.org",
                            "downloads.gradle.org")),
            // proxy.golang.org answers module zips with a redirect to Google Cloud Storage.
            new Preset("go", "the go command: the module proxy, the checksum database and the zips' storage",
                    List.of("proxy.golang.org", "sum.golang.org", "storage.googleapis.com")),
            // The sparse index (cargo's default since 1.70), the API and the crate files it redirects to.
            new Preset("cargo", "cargo: crates.io's sparse index, its API and the crate files",
                    List.of("index.crates.io", "crates.io", "static.crates.io")));

    private HostPresets() {
    }

    /** Whether an allowed_hosts entry names a preset rather than a host. */
    public static boolean isPreset(String entry) {
        return entry.toLowerCase(Locale.ROOT).startsWith(PREFIX);
    }

    /** The preset an entry such as preset:npm names, if there is one. */
    public static Optional<Preset> named(String entry) {
        return named(entry, ALL);
    }

    static Optional<Preset> named(String entry, List<Preset> presets) {
        String name = entry.toLowerCase(Locale.ROOT).substring(PREFIX.length());
        return presets.stream().filter(preset -> preset.name().equals(name)).findFirst();
    }

    /** preset:npm, preset:pypi, ...: for messages. */
    static List<String> entries() {
        return ALL.stream().map(Preset::entry).toList();
    }
}
