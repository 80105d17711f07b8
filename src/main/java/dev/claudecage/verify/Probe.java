package dev.claudecage.verify;

/**
 * One check of one wall, run inside the cage by {@code probes.pl} under the same id.
 *
 * @param control the wall taken down for the positive control, where the probe must see the hole
 */
public record Probe(String id, String wall, String description, Weakening control) {
}
