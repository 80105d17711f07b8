package dev.claudecage.doctor;

/** The human-readable form of a {@link Diagnosis}: one row per check, its cost under it. */
public final class DoctorTable {

    private DoctorTable() {
    }

    public static String render(Diagnosis diagnosis) {
        StringBuilder out = new StringBuilder();
        out.append("claude-cage doctor for ").append(diagnosis.user()).append(" (uid ").append(diagnosis.uid()).append(", ")
                .append(diagnosis.rootless() ? "rootless" : "root").append(" mode)\n\n");
        String format = "%-30s %-10s %s%n";
        out.append(String.format(format, "CHECK", "STATUS", "DETAIL"));
        for (Diagnosis.Finding finding : diagnosis.findings()) {
            out.append(String.format(format, finding.check(), finding.status().name().toLowerCase().replace('_', '-'),
                    finding.detail()));
            if (!finding.cost().isEmpty()) {
                out.append(String.format(format, "", "", "costs: " + finding.cost()));
            }
        }
        out.append('\n').append(diagnosis.verdict()).append('\n');
        out.append("identity: ").append(diagnosis.identity()).append('\n');
        return out.toString();
    }
}
