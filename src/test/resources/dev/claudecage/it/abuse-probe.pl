# The cage's side of CageLimitsIT: attacks on the proxy, the API gateway and the audit log, from inside a
# real cage (the minbase rootfs has perl, with IO::Socket). Every loop is bounded; every socket has a timeout.
#   hold N SECONDS idle|partial   N connections to the gateway, silent or with half a request head, held for
#                                 SECONDS; prints when the gateway closes each
#   request TARGET BYTES [leave]  a POST of a BYTES-long messages body to the gateway; prints its status, or
#                                 leaves at once without reading an answer
#   connect TARGET BYTES          CONNECT through the proxy, then push BYTES; prints the status and what went
#   flood COUNT NAMELEN           COUNT CONNECTs of NAMELEN-character names; prints the statuses by count
#   tls NAMELEN                   a TLS ClientHello with an SNI of NAMELEN characters to the transparent listener
#   names SUFFIX COUNT            CONNECT to COUNT different names under SUFFIX; prints each status
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;

$| = 1;
$SIG{PIPE} = 'IGNORE';
my ($gateway_host, $gateway_port) = $ENV{ANTHROPIC_BASE_URL} =~ m{^http://([^:/]+):(\d+)};
my ($proxy_host, $proxy_port) = $ENV{HTTPS_PROXY} =~ m{^http://([^:/]+):(\d+)};
my $key = $ENV{ANTHROPIC_API_KEY} // '';

sub open_to {
    my ($host, $port) = @_;
    my $socket = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port, Proto => 'tcp', Timeout => 10)
        or die "cannot connect to $host:$port: $!\n";
    return $socket;
}

sub status_line {
    my ($socket) = @_;
    my $selector = IO::Select->new($socket);
    return 'TIMEOUT' unless $selector->can_read(15);
    my $line = <$socket>;
    return 'EOF' unless defined $line;
    $line =~ s/\r?\n$//;
    return $line;
}

sub code {
    my ($line) = @_;
    return $line =~ m{^HTTP/1\.[01] (\d{3})} ? $1 : $line;
}

my ($command, @args) = @ARGV;
if ($command eq 'hold') {
    my ($count, $seconds, $mode) = @args;
    my @held = map { open_to($gateway_host, $gateway_port) } 1 .. $count;
    if ($mode eq 'partial') {
        print {$_} "POST /v1/messages HTTP/1.1\r\nHost: gateway\r\nx-api-key: " for @held;
    }
    print "held $count\n";
    my $selector = IO::Select->new(@held);
    my $start = time;
    my $closed = 0;
    while (time - $start < $seconds && $closed < $count) {
        for my $socket ($selector->can_read(1)) {
            my $read = sysread($socket, my $buffer, 4096);
            next if defined $read && $read > 0;
            $selector->remove($socket);
            $closed++;
            printf "closed by the gateway after %d s\n", time - $start;
        }
    }
    print "held to the end: " . ($count - $closed) . "\n";
} elsif ($command eq 'request') {
    my ($target, $bytes, $leave) = @args;
    my $prefix = '{"model":"m","max_tokens":16,"messages":[{"role":"user","content":"';
    my $suffix = '"}]}';
    my $body = $prefix . ('x' x ($bytes - length($prefix) - length($suffix))) . $suffix;
    my $socket = open_to($gateway_host, $gateway_port);
    print $socket "POST $target HTTP/1.1\r\nHost: gateway\r\nx-api-key: $key\r\ncontent-type: application/json\r\n"
        . "anthropic-version: 2023-06-01\r\ncontent-length: " . length($body) . "\r\n\r\n";
    my $sent = syswrite($socket, $body) // 0;
    if (defined $leave) {
        close $socket;
        print "left $target\n";
    } else {
        print "REQUEST $target " . code(status_line($socket)) . " (sent $sent)\n";
    }
} elsif ($command eq 'connect') {
    my ($target, $bytes) = @args;
    my $socket = open_to($proxy_host, $proxy_port);
    print $socket "CONNECT $target HTTP/1.1\r\nHost: $target\r\n\r\n";
    my $status = status_line($socket);
    if (code($status) eq '200') {
        while (defined(my $line = <$socket>)) {
            last if $line =~ /^\r?\n$/;
        }
    }
    my $pushed = 0;
    my $chunk = 'd' x 65536;
    while (code($status) eq '200' && $pushed < $bytes) {
        my $wrote = syswrite($socket, $chunk, $bytes - $pushed < 65536 ? $bytes - $pushed : 65536);
        last unless defined $wrote && $wrote > 0;
        $pushed += $wrote;
    }
    print "CONNECT $target " . code($status) . " pushed $pushed\n";
} elsif ($command eq 'flood') {
    my ($count, $length) = @args;
    my %statuses;
    for my $i (1 .. $count) {
        my $name = substr(sprintf('%06d', $i) . ('a' x $length), 0, $length) . '.test';
        my $socket = open_to($proxy_host, $proxy_port);
        print $socket "CONNECT $name:443 HTTP/1.1\r\n\r\n";
        $statuses{code(status_line($socket))}++;
        close $socket;
    }
    print "FLOOD " . join(' ', map { "$_:$statuses{$_}" } sort keys %statuses) . "\n";
} elsif ($command eq 'tls') {
    my ($length) = @args;
    my $name = 'b' x $length;
    my $sni = pack('n n n C n', 0, $length + 5, $length + 3, 0, $length) . $name;
    my $body = pack('n', 0x0303) . ("\0" x 32) . pack('C n n C C n', 0, 2, 0x1301, 1, 0, length($sni)) . $sni;
    my $hello = pack('C', 1) . substr(pack('N', length($body)), 1) . $body;
    my $records = '';
    for (my $at = 0; $at < length($hello); $at += 16384) {
        my $piece = substr($hello, $at, 16384);
        $records .= pack('C n n', 22, 0x0301, length($piece)) . $piece;
    }
    my $socket = open_to($proxy_host, 443);
    syswrite($socket, $records);
    my $selector = IO::Select->new($socket);
    my $answer = '';
    sysread($socket, $answer, 7) if $selector->can_read(15);
    print "TLS " . join(' ', unpack('C*', $answer)) . "\n";
} elsif ($command eq 'names') {
    my ($suffix, $count) = @args;
    for my $i (1 .. $count) {
        my $socket = open_to($proxy_host, $proxy_port);
        print $socket "CONNECT n$i$suffix:443 HTTP/1.1\r\n\r\n";
        print "NAME n$i$suffix " . code(status_line($socket)) . "\n";
        close $socket;
    }
} else {
    die "unknown command $command\n";
}
