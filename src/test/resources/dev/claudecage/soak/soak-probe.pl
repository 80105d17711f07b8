# One soak session's work, in its cage (make soak; perl is in the minbase rootfs): until the wall clock
# passes $SOAK_UNTIL (epoch seconds, and never longer than an hour), over and over: a streamed Messages
# request through the API gateway, read to its last event; then 256 KiB through a CONNECT tunnel to the
# test's echo host, each 16 KiB piece read back and compared; then a short pause. Every failure is counted
# with its reason; a progress line a minute, and a last SOAK line with the counts.
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;

$| = 1;
$SIG{PIPE} = 'IGNORE';
my ($gateway_host, $gateway_port) = $ENV{ANTHROPIC_BASE_URL} =~ m{^http://([^:/]+):(\d+)};
my ($proxy_host, $proxy_port) = $ENV{HTTPS_PROXY} =~ m{^http://([^:/]+):(\d+)};
my $key = $ENV{ANTHROPIC_API_KEY};
my $target = $ENV{SOAK_TARGET};
my $until = $ENV{SOAK_UNTIL};
$until = time + 3600 if $until > time + 3600;
my %count = (sse_ok => 0, sse_failed => 0, tunnel_ok => 0, tunnel_failed => 0);
my @failures;

sub connect_to {
    my ($host, $port) = @_;
    return IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port, Proto => 'tcp', Timeout => 10);
}

# Reads until $done says the bytes are complete, the peer closes, or $seconds pass.
sub read_until {
    my ($socket, $seconds, $done) = @_;
    my $selector = IO::Select->new($socket);
    my $deadline = time + $seconds;
    my $all = '';
    while (!$done->($all) && time < $deadline) {
        last unless $selector->can_read($deadline - time);
        my $read = sysread($socket, my $buffer, 65536);
        last unless defined $read && $read > 0;
        $all .= $buffer;
    }
    return $all;
}

sub streamed_message {
    my $socket = connect_to($gateway_host, $gateway_port) or return "cannot connect to the gateway: $!";
    my $body = '{"model":"soak","max_tokens":512,"stream":true,"tools":[{"name":"Bash","input_schema":'
        . '{"type":"object"}}],"messages":[{"role":"user","content":"soak"}]}';
    syswrite($socket, "POST /v1/messages HTTP/1.1\r\nHost: gateway\r\nx-api-key: $key\r\n"
        . "content-type: application/json\r\nanthropic-version: 2023-06-01\r\ncontent-length: " . length($body)
        . "\r\n\r\n$body");
    my $answer = read_until($socket, 60, sub { $_[0] =~ /\r\n0\r\n\r\n$/ });
    close $socket;
    return 'status: ' . (split /\r\n/, $answer)[0] unless $answer =~ m{^HTTP/1\.1 200 };
    return 'the stream ended before message_stop (' . length($answer) . ' bytes)' unless $answer =~ /event: message_stop/;
    return undef;
}

sub tunnel {
    my $socket = connect_to($proxy_host, $proxy_port) or return "cannot connect to the proxy: $!";
    syswrite($socket, "CONNECT $target HTTP/1.1\r\nHost: $target\r\n\r\n");
    my $head = read_until($socket, 15, sub { $_[0] =~ /\r\n\r\n/ });
    return 'CONNECT: ' . (split /\r\n/, $head)[0] unless $head =~ m{^HTTP/1\.1 200 };
    for my $piece (1 .. 16) {
        my $data = pack('N', $piece) x 4096;
        my $wrote = syswrite($socket, $data);
        return "write of piece $piece: $!" unless defined $wrote && $wrote == length($data);
        my $back = read_until($socket, 15, sub { length($_[0]) >= length($data) });
        return "piece $piece came back with " . length($back) . ' bytes' unless length($back) == length($data);
        return "piece $piece came back changed" unless $back eq $data;
    }
    close $socket;
    return undef;
}

sub counted {
    my ($what, $problem) = @_;
    if (defined $problem) {
        $count{"${what}_failed"}++;
        push @failures, "$what: $problem" if @failures < 20;
    } else {
        $count{"${what}_ok"}++;
    }
}

sub counts {
    return join(' ', map { "$_=$count{$_}" } sort keys %count);
}

my $next_progress = time + 60;
while (time < $until) {
    counted('sse', streamed_message());
    counted('tunnel', tunnel());
    select(undef, undef, undef, 0.5);
    if (time >= $next_progress) {
        print 'PROGRESS ' . counts() . "\n";
        $next_progress += 60;
    }
}
print 'SOAK ' . counts() . "\n";
print "FAILURE $_\n" for @failures;
