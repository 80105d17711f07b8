package dev.claudecage.net.dns;

import dev.claudecage.net.AuditEvent;
import dev.claudecage.net.EgressPolicy;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Header;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * The DNS stub's whole policy, as a pure function from a query's bytes to the answer's bytes (or
 * none: dropped) and the audit event that records it. Nothing here does I/O; nothing is ever asked
 * of another server.
 *
 * <ul>
 *   <li>A or AAAA for a name the policy allows, or one the API gateway holds the user's key for: the
 *       gateway's own address for that family, TTL {@value #TTL_SECONDS} s, so the cage's connections land
 *       on the proxy's transparent listeners (AAAA with no record where the cage has no IPv6 way out);</li>
 *   <li>any other type for an allowed name (TXT, NULL, ANY, MX...): NOERROR with no records;</li>
 *   <li>any other name: NXDOMAIN;</li>
 *   <li>not a plain one-question IN query: FORMERR, NOTIMP or REFUSED; unreadable or a response: dropped.</li>
 * </ul>
 * Answers say AA (this stub is the authority on the cage's names) and never RA: there is no recursion.
 */
final class DnsResponder {

    static final long TTL_SECONDS = 10;
    /** The EDNS payload size this stub advertises (the DNS flag day 2020 value). */
    static final int EDNS_PAYLOAD = 1232;
    private static final String LOCAL = "; answered locally, nothing forwarded";

    private final EgressPolicy policy;
    private final Inet4Address answer4;
    private final Inet6Address answer6;

    /** What to send back, if anything, and what to audit. */
    record Outcome(Optional<byte[]> response, AuditEvent event) {
    }

    /** @param answer6 the AAAA answer for allowed names, or null for a cage with no IPv6 way out */
    DnsResponder(EgressPolicy policy, Inet4Address answer4, Inet6Address answer6) {
        this.policy = Objects.requireNonNull(policy, "policy");
        this.answer4 = Objects.requireNonNull(answer4, "answer4");
        this.answer6 = answer6;
    }

    Outcome respond(byte[] wire) {
        if (wire.length < Header.LENGTH) {
            return drop("a malformed query (shorter than a DNS header): dropped");
        }
        Header header;
        try {
            header = new Header(Arrays.copyOf(wire, Header.LENGTH));
        } catch (IOException | RuntimeException e) {
            return drop("a malformed query (unreadable header): dropped");
        }
        if (header.getFlag(Flags.QR)) {
            // Never answer an answer: that is how two servers end up in a loop.
            return drop("a DNS response, not a query: dropped");
        }
        Message query;
        try {
            query = new Message(wire);
        } catch (IOException | RuntimeException e) {
            return error(header, Rcode.FORMERR, null, null, "a malformed query: FORMERR" + LOCAL);
        }
        if (header.getOpcode() != Opcode.QUERY) {
            return error(header, Rcode.NOTIMP, null, query, "opcode " + Opcode.string(header.getOpcode())
                    + ": NOTIMP" + LOCAL);
        }
        int questions = query.getSection(Section.QUESTION).size();
        if (questions != 1) {
            return error(header, Rcode.FORMERR, null, query, questions + " questions in one query: FORMERR" + LOCAL);
        }
        Record question = query.getQuestion();
        String name = question.getName().toString(true);
        String type = Type.string(question.getType());
        if (!query.getSection(Section.ANSWER).isEmpty() || !query.getSection(Section.AUTHORITY).isEmpty()) {
            return error(header, Rcode.FORMERR, name, query, type + " query carrying records: FORMERR" + LOCAL);
        }
        if (question.getDClass() != DClass.IN) {
            return error(header, Rcode.REFUSED, name, query, type + " in class " + DClass.string(question.getDClass())
                    + ": REFUSED" + LOCAL);
        }
        // A name the API gateway holds the user's key for is answered like an allowed one, whatever allowed_hosts
        // says: what the cage sends there meets the gateway's own listeners, never the API as someone else.
        Optional<String> apiHost = policy.apiHostReason(name);
        if (apiHost.isEmpty() && !policy.allowsName(name)) {
            return error(header, Rcode.NXDOMAIN, name, query, type + EgressPolicy.NOT_ON_ALLOWLIST + LOCAL);
        }
        String why = apiHost.map(reason -> "; " + reason).orElse("") + LOCAL;
        Message response = reply(header, query, Rcode.NOERROR);
        Name owner = question.getName();
        if (question.getType() == Type.A) {
            response.addRecord(new ARecord(owner, DClass.IN, TTL_SECONDS, answer4), Section.ANSWER);
            return allowed(response, name, type + " answered " + answer4.getHostAddress() + " (the gateway)" + why);
        }
        if (question.getType() == Type.AAAA && answer6 == null) {
            // A cage with no IPv6 way out (a rootless cage's relays are on 127.0.0.1): the name exists,
            // with no IPv6 address, so a client goes straight to the A record.
            return allowed(response, name, type + " answered with no address (this cage has IPv4 only)" + why);
        }
        if (question.getType() == Type.AAAA) {
            response.addRecord(new AAAARecord(owner, DClass.IN, TTL_SECONDS, answer6), Section.ANSWER);
            return allowed(response, name, type + " answered " + answer6.getHostAddress() + " (the gateway)" + why);
        }
        // An allowed name, but a type that could carry data (TXT, NULL, ANY...): it exists, with no such records.
        return new Outcome(Optional.of(response.toWire()), new AuditEvent(Instant.now(), DnsStub.AUDIT_SOURCE, name,
                null, AuditEvent.DENIED, type + " not served: empty NOERROR" + LOCAL, null, null));
    }

    /** An answer to this query with this code, the question echoed, and no records yet. */
    private static Message reply(Header queryHeader, Message query, int rcode) {
        Message response = new Message(queryHeader.getID());
        Header header = response.getHeader();
        header.setFlag(Flags.QR);
        header.setOpcode(queryHeader.getOpcode());
        header.setRcode(rcode);
        if (queryHeader.getFlag(Flags.RD)) {
            header.setFlag(Flags.RD);
        }
        if (query != null && query.getSection(Section.QUESTION).size() == 1) {
            header.setFlag(Flags.AA);
            response.addRecord(query.getQuestion(), Section.QUESTION);
        }
        if (query != null && query.getOPT() != null) {
            response.addRecord(new OPTRecord(EDNS_PAYLOAD, 0, 0), Section.ADDITIONAL);
        }
        return response;
    }

    private static Outcome error(Header queryHeader, int rcode, String name, Message query, String reason) {
        Message response = reply(queryHeader, query, rcode);
        return new Outcome(Optional.of(response.toWire()), new AuditEvent(Instant.now(), DnsStub.AUDIT_SOURCE, name,
                null, AuditEvent.DENIED, reason, null, null));
    }

    private static Outcome allowed(Message response, String name, String reason) {
        return new Outcome(Optional.of(response.toWire()), new AuditEvent(Instant.now(), DnsStub.AUDIT_SOURCE, name,
                null, AuditEvent.ALLOWED, reason, null, null));
    }

    private static Outcome drop(String reason) {
        return new Outcome(Optional.empty(), new AuditEvent(Instant.now(), DnsStub.AUDIT_SOURCE, null, null,
                AuditEvent.DENIED, reason, null, null));
    }
}
