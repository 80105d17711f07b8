package dev.claudecage.config;

import java.nio.file.Path;
import java.util.List;

/**
 * Credentials the cage may use without holding them: git tokens added by the git gateway, and
 * the host's SSH agent behind a relay that signs only for listed hosts.
 *
 * @param git               one entry per host that gets a token
 * @param gitCaCertificates a PEM file of CA certificates the git gateway trusts besides the JDK's
 *                          own (a self-hosted server with a private CA), or null
 * @param gitAccess         which repositories of those hosts the gateway lets the cage fetch and push, and which refs
 * @param sshAgent          whether the host's SSH agent is forwarded, through the relay
 * @param sshAgentHosts     the hosts whose connections the agent may sign for
 * @param sshKnownHosts     known_hosts files that hold those hosts' keys (missing files are skipped)
 */
public record CredentialSettings(List<GitCredential> git, Path gitCaCertificates, GitAccessRules gitAccess,
                                 boolean sshAgent, List<String> sshAgentHosts, List<Path> sshKnownHosts) {

    public CredentialSettings {
        git = List.copyOf(git);
        java.util.Objects.requireNonNull(gitAccess, "gitAccess");
        sshAgentHosts = List.copyOf(sshAgentHosts);
        sshKnownHosts = List.copyOf(sshKnownHosts);
    }

    /** No git tokens, no agent. */
    public static CredentialSettings none() {
        return new CredentialSettings(List.of(), null, GitAccessRules.defaults(), false, List.of(), List.of());
    }
}
