#!/usr/bin/perl
# claude-cage verify: the probes, run inside a cage as its unprivileged user.
#
# Each probe tries to get through one wall and prints one line:
#   PROBE <tab> id <tab> blocked|hole|error <tab> what happened
# "blocked" means the wall held, "hole" that the attempt got through, "error" that the probe
# could not tell. Syscalls are made directly (perl's syscall()) with harmless arguments that the
# kernel itself would reject with an errno other than EPERM, so an EPERM can only come from the
# wall (seccomp or a missing capability) and any other answer proves the call reached the kernel.
#
# Inputs come from the environment (set by the launcher): CAGE_VERIFY_* below. Only perl-base
# modules are used, so the probes run on a minbase Debian rootfs.
use strict;
use warnings;
use POSIX ();
use Socket qw(PF_INET PF_INET6 SOCK_STREAM SOCK_RAW SOCK_DGRAM SOCK_SEQPACKET SOL_SOCKET SO_ERROR
              pack_sockaddr_in pack_sockaddr_in6 inet_aton inet_pton AF_INET6);
use Fcntl qw(O_RDWR O_NOCTTY O_WRONLY O_CREAT O_EXCL O_NONBLOCK F_GETFL F_SETFL);

$| = 1;

use constant {
    EPERM => 1, ENOENT => 2, EACCES => 13, EBUSY => 16, EINVAL => 22, EROFS => 30,
    SYS_IOCTL => 16, SYS_SOCKET => 41, SYS_PTRACE => 101, SYS_MOUNT => 165,
    SYS_KEXEC_LOAD => 246, SYS_KEYCTL => 250, SYS_UNSHARE => 272, SYS_PERF_EVENT_OPEN => 298,
    SYS_FINIT_MODULE => 313, SYS_BPF => 321, SYS_USERFAULTFD => 323, SYS_IO_URING_SETUP => 425,
    SYS_MKNOD => 133, SYS_CHROOT => 161, SYS_SETHOSTNAME => 170, SYS_SWAPON => 167, SYS_REBOOT => 169,
    SYS_SYSLOG => 103, SYS_CLOCK_SETTIME => 227, SYS_OPEN_BY_HANDLE_AT => 304, SYS_PRCTL => 157, SYS_CLONE3 => 435,
    ENOSYS => 38, PR_GET_NO_NEW_PRIVS => 39, PR_CAP_AMBIENT => 47, PR_CAP_AMBIENT_IS_SET => 1, CAP_LAST_CAP => 40,
    CLONE_NEWUSER => 0x10000000, TIOCSTI => 0x5412, AF_PACKET => 17, AF_ALG => 38, AF_VSOCK => 40,
    AF_NETLINK => 16, NETLINK_KOBJECT_UEVENT => 15, SOCK_DCCP => 6, IPPROTO_DCCP => 33, IPPROTO_SCTP => 132,
    SOCK_UNKNOWN_FLAG => 0x40000000, ENOTTY => 25, NETLINK_ROUTE => 0, RTM_DELADDR => 21, IFA_LOCAL => 2,
    NLM_F_REQUEST => 1, NLM_F_ACK => 4, NLMSG_ERROR => 2,
};

sub report { my ($id, $result, $detail) = @_; $detail =~ s/[\t\n]/ /g; print "PROBE\t$id\t$result\t$detail\n"; }

# Runs a raw syscall; returns (ok, errno-number, errno-text).
sub try_syscall {
    # syscall's first argument is a scalar: pass the number apart, and the rest as copies,
    # since perl hands string arguments to the kernel as writable buffers.
    my ($number, @args) = @_;
    local $! = 0;
    my $rc = syscall($number, @args);
    return $rc >= 0 ? (1, 0, "succeeded (returned $rc)") : (0, $! + 0, "$!");
}

# A call that must be refused with EPERM; any other answer means it reached the kernel.
sub expect_eperm {
    my ($id, $what, @call) = @_;
    my ($ok, $errno, $text) = try_syscall(@call);
    return report($id, 'hole', "$what $text") if $ok;
    return report($id, 'blocked', "$what refused: $text") if $errno == EPERM;
    report($id, 'hole', "$what reached the kernel: $text");
}

# A socket of a protocol the filter refuses. The filter decides on family, type (under the
# kernel's SOCK_TYPE_MASK) and protocol; with a flag bit the kernel does not know, the kernel
# answers EINVAL before it looks the protocol up, so the probe gets to the wall without making
# the kernel load the protocol's module on the host. The twin, a TCP socket with the same flag,
# must get that EINVAL: a filter that refused the flag itself would leave this probe blind.
sub expect_protocol_eperm {
    my ($id, $what, $family, $type, $protocol) = @_;
    my ($twin_ok, $twin_errno, $twin_text) = try_syscall(SYS_SOCKET, PF_INET, SOCK_STREAM | SOCK_UNKNOWN_FLAG, 0);
    return report($id, 'error', "a TCP socket with an unknown flag bit $twin_text, not EINVAL: this probe cannot tell")
        if $twin_ok || $twin_errno != EINVAL;
    expect_eperm($id, "$what (with an unknown flag bit)", SYS_SOCKET, $family, $type | SOCK_UNKNOWN_FLAG, $protocol);
}

# Runs code in a child so that what it changes (namespaces, traced state) dies with it;
# the child's exit code is its answer: 0 hole, 1 blocked, 2 error, and its message on a pipe.
sub in_child {
    my ($id, $code) = @_;
    pipe(my $reader, my $writer) or return report($id, 'error', "pipe: $!");
    my $pid = fork();
    return report($id, 'error', "fork: $!") unless defined $pid;
    if ($pid == 0) {
        close $reader;
        my ($status, $detail) = $code->();
        print $writer $detail;
        close $writer;
        POSIX::_exit($status eq 'hole' ? 0 : $status eq 'blocked' ? 1 : 2);
    }
    close $writer;
    my $detail = do { local $/; <$reader> } // '';
    waitpid($pid, 0);
    my $status = $? & 127 ? 'error' : (qw(hole blocked error))[$? >> 8] // 'error';
    $detail = "child killed by signal " . ($? & 127) if $? & 127;
    report($id, $status, $detail);
}

sub mountinfo {
    open(my $fh, '<', '/proc/self/mountinfo') or return ();
    my @mounts;
    while (my $line = <$fh>) {
        my @fields = split ' ', $line;
        my ($point, $options) = @fields[4, 5];
        my ($sep) = grep { $fields[$_] eq '-' } 0 .. $#fields;
        push @mounts, { point => $point, options => $options, type => $fields[$sep + 1],
                        super => $fields[$sep + 3] // '' };
    }
    return @mounts;
}

sub read_only { my ($m) = @_; return ($m->{options} =~ /(^|,)ro(,|$)/) ? 1 : 0; }

# The ambient capability set as /proc shows it (hex), from prctl(PR_CAP_AMBIENT_IS_SET) for each capability.
sub ambient_set {
    my $set = 0;
    for my $cap (0 .. CAP_LAST_CAP) {
        my ($ok, $errno, $text) = try_syscall(SYS_PRCTL, PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, $cap, 0, 0);
        # EINVAL for the first: a kernel without ambient capabilities (gVisor), whose set is empty.
        return '0' if !$ok && $cap == 0 && $errno == EINVAL;
        return "missing, and prctl failed: $text" if !$ok && $cap == 0;
        $set |= 1 << $cap if $ok && $text =~ /returned 1\b/;
    }
    return sprintf('%016x', $set);
}

# A probe the host runs from outside while this cage runs: waits, at most a minute, until the host has
# checked (CAGE_VERIFY_HOST_DONE names the file it then makes); the host's verdict replaces this line.
sub wait_for_host {
    my ($id) = @_;
    my $done = $ENV{CAGE_VERIFY_HOST_DONE};
    return report($id, 'blocked', 'checked by the host, from outside') unless $done;
    for (1 .. 600) {
        return report($id, 'blocked', 'checked by the host, from outside') if -e $done;
        select(undef, undef, undef, 0.1);
    }
    report($id, 'error', "the host's check did not finish within a minute");
}

# /proc/self/uid_map or gid_map as inside:outside:count,...
sub id_map {
    my ($file) = @_;
    open(my $fh, '<', $file) or return undef;
    return join(',', map { join(':', split ' ') } grep { /\S/ } <$fh>);
}

sub status_field {
    my ($name) = @_;
    open(my $fh, '<', '/proc/self/status') or return undef;
    while (my $line = <$fh>) { return $1 if $line =~ /^\Q$name\E:\s*(.*)$/; }
    return undef;
}

# Creates $file (and removes it again): a hole if that works, blocked if the filesystem is read-only (EROFS).
sub creation_refused {
    my ($id, $file, $hole, $write, $read_only) = @_;
    if (sysopen(my $fh, $file, O_WRONLY | O_CREAT, 0600)) { close $fh; unlink $file; return report($id, 'hole', $hole); }
    return report($id, 'blocked', "$write refused: $!") if $! == EROFS;
    report($id, 'error', "$write failed with $!, not $read_only");
}

my %probes = (
    'root-read-only' => sub {
        my $file = '/var/tmp/.claude-cage-probe';
        creation_refused($_[0], $file, "created $file in the image root", 'write to /var/tmp', 'a read-only root');
    },
    'only-expected-mounts-writable' => sub {
        my %allowed = map { $_ => 1 } grep { length } split /,/, ($ENV{CAGE_VERIFY_WRITABLE} // '');
        my %scratch = map { $_ => 1 } qw(tmpfs proc devpts mqueue);
        # A device node bound over a path (rootless runtimes bind /dev/null and friends, and mask
        # /proc files with /dev/null) stores nothing, so it is not a writable place.
        my @extra = map { "$_->{point} ($_->{type})" }
            grep { !read_only($_) && !$scratch{$_->{type}} && !$allowed{$_->{point}} && !-c $_->{point} } mountinfo();
        return report($_[0], 'hole', "writable mounts beyond the given ones: @extra") if @extra;
        report($_[0], 'blocked', 'only scratch filesystems and the given mounts are writable');
    },
    'readonly-mount-holds' => sub {
        creation_refused($_[0], "$ENV{CAGE_VERIFY_RO_MOUNT}/.claude-cage-probe", 'wrote into the read-only mount',
            'write', 'a read-only mount');
    },
    'workspace-protected-paths-hold' => sub {
        my ($id) = @_;
        my $workspace = $ENV{CAGE_VERIFY_WORKSPACE};
        my @paths = grep { length } split /,/, ($ENV{CAGE_VERIFY_PROTECTED} // '');
        return report($id, 'hole', 'protected_paths is empty: files the host runs later are writable') unless @paths;
        my (@holes, @odd);
        # The wall answers with EROFS (read-only bind) or EBUSY (a mount point cannot be replaced).
        my $refused = sub { my ($what) = @_; push @odd, "$what: $!" unless $! == EROFS || $! == EBUSY; };
        for my $written (@paths) {
            (my $relative = $written) =~ s{/$}{};
            my $path = "$workspace/$relative";
            if (-d $path && $written !~ m{/$}) {
                # A missing file's placeholder folder: removing it would free the name.
                if (rmdir $path) { mkdir $path; push @holes, "removed the placeholder of $relative"; }
                else { $refused->("remove the placeholder of $relative"); }
            } elsif (-d $path) {
                my $file = "$path/.claude-cage-probe";
                if (sysopen(my $fh, $file, O_WRONLY | O_CREAT, 0600)) { close $fh; unlink $file; push @holes, "created $relative/x"; }
                else { $refused->("create in $relative"); }
            } elsif (-e $path) {
                my $size = -s _;
                if (open(my $fh, '>>', $path)) { print $fh "x"; close $fh; truncate($path, $size); push @holes, "wrote $relative"; }
                else { $refused->("write $relative"); }
                # Beside the target, so that rename(2) stays within one mount and only the wall can refuse it.
                (my $decoy = $path) =~ s{[^/]+$}{.claude-cage-decoy};
                # What it held, to put back after a replacement (a control's fixture stays as it was made).
                my $held;
                if (open(my $in, '<', $path)) { local $/; $held = <$in>; close $in; }
                if (open(my $fh, '>', $decoy)) {
                    close $fh;
                    if (rename($decoy, $path)) {
                        push @holes, "replaced $relative";
                        if (defined $held && open(my $out, '>', $path)) { print $out $held; close $out; }
                    } else { $refused->("replace $relative"); unlink $decoy; }
                }
            } elsif (sysopen(my $fh, $path, O_WRONLY | O_CREAT | O_EXCL, 0600)) {
                close $fh; unlink $path; push @holes, "created the missing $relative";
            } else {
                $refused->("create the missing $relative");
            }
        }
        return report($id, 'hole', join('; ', @holes)) if @holes;
        return report($id, 'error', join('; ', @odd)) if @odd;
        report($id, 'blocked', scalar(@paths) . ' protected paths: writes, creation and replacement refused');
    },
    'workspace-folders-pinned' => sub {
        my ($id) = @_;
        my $workspace = $ENV{CAGE_VERIFY_WORKSPACE};
        my %tops = map { (split m{/}, $_)[0] => 1 } grep { m{/} } split /,/, ($ENV{CAGE_VERIFY_PROTECTED} // '');
        my @folders = grep { -d "$workspace/$_" && !-l "$workspace/$_" } sort keys %tops;
        return report($id, 'error', 'no folder on the way to a protected path in the fixture workspace') unless @folders;
        for my $folder (@folders) {
            my ($from, $to) = ("$workspace/$folder", "$workspace/$folder.claude-cage-moved");
            if (rename($from, $to)) { rename($to, $from); return report($id, 'hole', "renamed $folder away"); }
            return report($id, 'error', "rename $folder failed with $!, not EBUSY") unless $! == EBUSY || $! == EROFS;
        }
        report($id, 'blocked', 'renaming ' . join(', ', @folders) . ' refused: they are mount points');
    },
    'host-file-unreadable' => sub {
        my $path = $ENV{CAGE_VERIFY_HOST_SECRET};
        if (open(my $fh, '<', $path)) { my $line = <$fh> // '';
            return report($_[0], 'hole', "read the host file $path"); }
        return report($_[0], 'blocked', "$path: $!") if $! == ENOENT;
        report($_[0], 'error', "$path: $!");
    },
    'mount-denied' => sub {
        mkdir '/tmp/.claude-cage-mnt';
        expect_eperm($_[0], 'mount(tmpfs)', SYS_MOUNT, 'none', '/tmp/.claude-cage-mnt', 'tmpfs', 0, 0);
    },
    'userns-denied' => sub {
        in_child($_[0], sub {
            my ($ok, $errno, $text) = try_syscall(SYS_UNSHARE, CLONE_NEWUSER);
            return ('hole', 'unshare(CLONE_NEWUSER) succeeded') if $ok;
            return ('blocked', "unshare(CLONE_NEWUSER) refused: $text") if $errno == EPERM;
            return ('hole', "unshare(CLONE_NEWUSER) reached the kernel: $text");
        });
    },
    'ptrace-denied' => sub {
        my $target = fork();
        if ($target == 0) { sleep 30; POSIX::_exit(0); }
        my ($ok, $errno, $text) = try_syscall(SYS_PTRACE, 16, $target, 0, 0);    # PTRACE_ATTACH
        kill 'KILL', $target; waitpid($target, 0);
        return report($_[0], 'hole', "attached to a sibling process") if $ok;
        return report($_[0], 'blocked', "ptrace(PTRACE_ATTACH) refused: $text") if $errno == EPERM;
        report($_[0], 'hole', "ptrace reached the kernel: $text");
    },
    'raw-socket-denied' => sub {
        expect_eperm($_[0], 'socket(AF_INET, SOCK_RAW)', SYS_SOCKET, PF_INET, SOCK_RAW, 1);
    },
    'packet-socket-denied' => sub {
        expect_eperm($_[0], 'socket(AF_PACKET, SOCK_RAW)', SYS_SOCKET, AF_PACKET, SOCK_RAW, 0);
    },
    'vsock-denied' => sub {
        expect_eperm($_[0], 'socket(AF_VSOCK)', SYS_SOCKET, AF_VSOCK, SOCK_STREAM, 0);
    },
    'alg-socket-denied' => sub {
        expect_eperm($_[0], 'socket(AF_ALG)', SYS_SOCKET, AF_ALG, SOCK_SEQPACKET, 0);
    },
    'sctp-socket-denied' => sub {
        expect_protocol_eperm($_[0], 'socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP)', PF_INET, SOCK_STREAM, IPPROTO_SCTP);
    },
    'dccp-socket-denied' => sub {
        expect_protocol_eperm($_[0], 'socket(AF_INET, SOCK_DCCP, IPPROTO_DCCP)', PF_INET, SOCK_DCCP, IPPROTO_DCCP);
    },
    'netlink-uevent-denied' => sub {
        # Opening it is harmless; bound to its group, it would hear the host's device events.
        expect_eperm($_[0], 'socket(AF_NETLINK, NETLINK_KOBJECT_UEVENT)', SYS_SOCKET, AF_NETLINK, SOCK_DGRAM,
            NETLINK_KOBJECT_UEVENT);
    },
    'keyctl-denied' => sub {
        # KEYCTL_GET_KEYRING_ID of the session keyring: harmless, answered by any kernel with keys.
        expect_eperm($_[0], 'keyctl(GET_KEYRING_ID)', SYS_KEYCTL, 0, -3, 0);
    },
    'bpf-denied' => sub {
        # An unknown bpf command: the kernel answers EINVAL, only a wall answers EPERM.
        expect_eperm($_[0], 'bpf(unknown command)', SYS_BPF, 9999, 0, 0);
    },
    'module-load-denied' => sub {
        # finit_module on a closed fd: with the privilege the kernel answers EBADF; nothing loads.
        expect_eperm($_[0], 'finit_module(-1)', SYS_FINIT_MODULE, -1, '', 0);
    },
    'kexec-denied' => sub {
        # More segments than the kernel accepts: EINVAL with the privilege, before anything loads.
        expect_eperm($_[0], 'kexec_load(1000 segments)', SYS_KEXEC_LOAD, 0, 1000, 0, 0);
    },
    'perf-event-denied' => sub {
        expect_eperm($_[0], 'perf_event_open(NULL)', SYS_PERF_EVENT_OPEN, 0, 0, -1, -1, 0);
    },
    'userfaultfd-denied' => sub {
        expect_eperm($_[0], 'userfaultfd(UFFD_USER_MODE_ONLY)', SYS_USERFAULTFD, 1);
    },
    'io-uring-denied' => sub {
        expect_eperm($_[0], 'io_uring_setup(0, NULL)', SYS_IO_URING_SETUP, 0, 0);
    },
    'open-by-handle-denied' => sub {
        # The "shocker" escape: a file handle names any inode of the file system, outside the root.
        my $handle = pack('LLa8', 8, 1, "\0" x 8);
        expect_eperm($_[0], 'open_by_handle_at(bad handle)', SYS_OPEN_BY_HANDLE_AT, -100, $handle, 0);
    },
    'chroot-denied' => sub { expect_eperm($_[0], 'chroot("/")', SYS_CHROOT, '/') },
    'mknod-denied' => sub {
        my $path = '/tmp/.claude-cage-probe-node';
        my ($ok, $errno, $text) = try_syscall(SYS_MKNOD, $path, 0020600, (1 << 8) | 3);    # a char device, 1:3
        unlink $path;
        return report($_[0], 'hole', "created a device node") if $ok;
        return report($_[0], 'blocked', "mknod(char device) refused: $text") if $errno == EPERM;
        report($_[0], 'hole', "mknod reached the kernel: $text");
    },
    'sethostname-denied' => sub { expect_eperm($_[0], 'sethostname', SYS_SETHOSTNAME, 'x', 1) },
    'clock-denied' => sub {
        # An invalid time (nanoseconds beyond a second): the kernel says EINVAL before changing anything.
        my $time = pack('qq', 0, 2_000_000_000);
        expect_eperm($_[0], 'clock_settime(invalid)', SYS_CLOCK_SETTIME, 0, $time);
    },
    'swapon-denied' => sub { expect_eperm($_[0], 'swapon(no such file)', SYS_SWAPON, '/nonexistent-swap', 0) },
    'reboot-denied' => sub { expect_eperm($_[0], 'reboot(bad magic)', SYS_REBOOT, 0, 0, 0, 0) },
    'kernel-log-denied' => sub { expect_eperm($_[0], 'syslog(SIZE_BUFFER)', SYS_SYSLOG, 10, 0, 0) },
    'devices-minimal' => sub {
        opendir(my $dir, '/dev') or return report($_[0], 'error', "/dev: $!");
        my %expected = map { $_ => 1 } qw(null zero full random urandom tty ptmx pts shm mqueue console core fd stdin stdout stderr);
        # The runtime's kernel's own devices (gVisor's), which are no host's: named, with why, by the launcher.
        my %runtime = map { $_ => 1 } split /,/, ($ENV{CAGE_VERIFY_RUNTIME_DEVICES} // '');
        my @other = sort grep { !/^\.\.?$/ && !$expected{$_} } readdir $dir;
        my @own = grep { $runtime{$_} } @other;
        @other = grep { !$runtime{$_} } @other;
        return report($_[0], 'hole', "device nodes beyond the minimal set: @other") if @other;
        return report($_[0], 'blocked', "only the minimal device nodes exist, and the runtime's own @own: "
            . $ENV{CAGE_VERIFY_RUNTIME_DEVICES_WHY}) if @own;
        report($_[0], 'blocked', 'only the minimal device nodes exist');
    },
    'tiocsti-denied' => sub { tiocsti($_[0], TIOCSTI) },
    'tiocsti-high-bits-denied' => sub { tiocsti($_[0], TIOCSTI | (1 << 32)) },
    'setuid-inert' => sub {
        my $helper = $ENV{CAGE_VERIFY_SETUID};
        my $euid = `$helper -u 2>&1`;
        chomp $euid;
        return report($_[0], 'error', "cannot run the setuid helper: $euid") unless $euid =~ /^\d+$/;
        return report($_[0], 'hole', "a setuid-root program ran with euid 0") if $euid == 0;
        report($_[0], 'blocked', "a setuid-root program kept euid $euid");
    },
    'capabilities-empty' => sub {
        my @sets = map { [$_, status_field($_) // 'missing'] } qw(CapInh CapPrm CapEff CapBnd CapAmb);
        # gVisor's /proc shows no CapAmb line: the ambient set is then asked of prctl, one capability at a time.
        $_->[1] = ambient_set() for grep { $_->[0] eq 'CapAmb' && $_->[1] eq 'missing' } @sets;
        my @held = grep { $_->[1] !~ /^0+$/ } @sets;
        return report($_[0], 'hole', join(' ', map { "$_->[0]=$_->[1]" } @held)) if @held;
        report($_[0], 'blocked', 'all five capability sets are empty');
    },
    'seccomp-filter-active' => sub {
        my $mode = status_field('Seccomp') // 'missing';
        return report($_[0], 'blocked', 'seccomp mode 2 (filter)') if $mode eq '2';
        report($_[0], 'hole', "seccomp mode $mode");
    },
    'clone3-enosys' => sub {
        # The filter cannot read clone3's flags (they are in memory): it answers ENOSYS, so that glibc falls
        # back to clone, whose flags it reads. Any other answer means clone3 reached the kernel.
        my ($ok, $errno, $text) = try_syscall(SYS_CLONE3, 0, 0);
        return report($_[0], 'blocked', "clone3 answered ENOSYS") if !$ok && $errno == ENOSYS;
        report($_[0], 'hole', "clone3 reached the kernel: $text");
    },
    'no-new-privs-set' => sub {
        my $value = status_field('NoNewPrivs');
        # gVisor's /proc shows no NoNewPrivs line: prctl says the same.
        if (!defined $value) {
            my ($ok, $errno, $text) = try_syscall(SYS_PRCTL, PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
            my $set = $ok && $text =~ /returned 1\b/;
            return report($_[0], 'blocked', 'no_new_privs is set (prctl)') if $set;
            $value = $ok ? 'prctl says 0' : "missing, and prctl failed: $text";
        }
        return report($_[0], 'blocked', 'no_new_privs is set') if $value eq '1';
        report($_[0], 'hole', "NoNewPrivs: $value");
    },
    'proc-paths-masked' => sub {
        my @present = grep { -e $_ } split /,/, $ENV{CAGE_VERIFY_MASKED};
        return report($_[0], 'error', 'none of the masked paths exists on this kernel') unless @present;
        my @open = grep { !masked($_) } @present;
        return report($_[0], 'hole', "readable kernel interfaces: @open") if @open;
        report($_[0], 'blocked', "masked: @present");
    },
    'proc-paths-read-only' => sub {
        my @present = grep { -e $_ } split /,/, $ENV{CAGE_VERIFY_READONLY};
        my @writable = grep { my $mount = holding_mount($_); !$mount || !read_only($mount) } @present;
        return report($_[0], 'hole', "writable kernel interfaces: @writable") if @writable;
        report($_[0], 'blocked', "read-only: @present");
    },
    'proc-sys-read-only' => sub { read_only_mount($_[0], '/proc/sys') },
    'cgroupfs-read-only' => sub {
        my @cgroup = grep { $_->{point} =~ m{^/sys/fs/cgroup(/|$)} && $_->{type} =~ /^cgroup2?$/ } mountinfo();
        return report($_[0], 'error', 'no cgroup filesystem is mounted') unless @cgroup;
        my @writable = map { $_->{point} } grep { !read_only($_) } @cgroup;
        return report($_[0], 'hole', "writable cgroup hierarchies (release_agent reachable): @writable") if @writable;
        report($_[0], 'blocked', scalar(@cgroup) . ' cgroup hierarchies, all read-only');
    },
    'pids-limit-holds' => sub {
        my $target = $ENV{CAGE_VERIFY_PIDS_LIMIT} + 32;
        my @children;
        my $deadline = time + 30;
        while (@children < $target && time < $deadline) {
            my $pid = fork();
            last unless defined $pid;
            if ($pid == 0) { sleep 60; POSIX::_exit(0); }
            push @children, $pid;
        }
        my $made = @children;
        kill 'KILL', @children; waitpid($_, 0) for @children;
        return report($_[0], 'hole', "forked $made processes, beyond the limit") if $made >= $target;
        report($_[0], 'blocked', "fork refused after $made processes");
    },
    'memory-limit-holds' => sub {
        my $chunk = 16 << 20;
        my $chunks = int($ENV{CAGE_VERIFY_MEMORY_BYTES} / $chunk) + 4;
        my $pid = fork();
        if ($pid == 0) {
            # Be the one the OOM killer picks, not the probe runner.
            if (open(my $adj, '>', '/proc/self/oom_score_adj')) { print $adj "1000"; close $adj; }
            my @hold;
            push @hold, 'x' x $chunk for 1 .. $chunks;
            POSIX::_exit(0);
        }
        waitpid($pid, 0);
        my $signal = $? & 127;
        my $mib = $chunks * 16;
        return report($_[0], 'blocked', "allocating $mib MiB was stopped (signal $signal)") if $signal == 9;
        return report($_[0], 'hole', "allocated $mib MiB, beyond the limit") if $? == 0;
        report($_[0], 'blocked', "allocating $mib MiB failed (status $?)");
    },
    'network-isolated' => sub {
        my @reached;
        my $port4 = $ENV{CAGE_VERIFY_CANARY_PORT4};
        my $port6 = $ENV{CAGE_VERIFY_CANARY_PORT6};
        if (socket(my $s, PF_INET, SOCK_STREAM, 0)) {
            push @reached, "127.0.0.1:$port4" if connect($s, pack_sockaddr_in($port4, inet_aton('127.0.0.1')));
            close $s;
        }
        if (socket(my $s, PF_INET6, SOCK_STREAM, 0)) {
            push @reached, "[::1]:$port6" if connect($s, pack_sockaddr_in6($port6, inet_pton(AF_INET6, '::1')));
            close $s;
        }
        return report($_[0], 'hole', "reached the host's canary at @reached") if @reached;
        report($_[0], 'blocked', "the host's loopback canary is out of reach");
    },
    'network-interfaces-expected' => sub {
        opendir(my $dir, '/sys/class/net') or return report($_[0], 'error', "/sys/class/net: $!");
        my %expected = map { $_ => 1 } split /,/, $ENV{CAGE_VERIFY_LINKS};
        my @links = sort grep { !/^\./ } readdir $dir;
        my @other = grep { !$expected{$_} } @links;
        return report($_[0], 'hole', "unexpected network interfaces: @other") if @other;
        report($_[0], 'blocked', "interfaces: @links");
    },
    'gateway-other-ports-blocked' => sub {
        my @reached = grep { tcp_connect($_) } $ENV{CAGE_VERIFY_GATEWAY4}, $ENV{CAGE_VERIFY_GATEWAY6};
        return report($_[0], 'hole', "reached a closed port on the gateway: @reached") if @reached;
        report($_[0], 'blocked', 'a listening port on the gateway that the firewall does not open is out of reach');
    },
    'gateway-idle-ports-closed' => sub {
        my (@reached, @closed);
        for my $target (split /,/, $ENV{CAGE_VERIFY_IDLE_PORTS} // '') {
            my ($connected, $how) = tcp_connect($target);
            if ($connected) { push @reached, $target; } else { push @closed, "$target ($how)"; }
        }
        return report($_[0], 'hole', "reached a program on the port of a gateway service that does not run: @reached")
            if @reached;
        report($_[0], 'blocked', 'closed, with a listener there: ' . join(', ', @closed));
    },
    'api-direct-route-closed' => sub {
        my $port = $ENV{CAGE_VERIFY_API_PORT};
        my ($proxy) = ($ENV{HTTPS_PROXY} // '') =~ m{^http://(.+:\d+)$};
        return report($_[0], 'error', 'no HTTPS_PROXY in the cage') unless $proxy;
        my (@open, @refused);
        for my $host (split /,/, $ENV{CAGE_VERIFY_API_HOSTS}) {
            my $address = inet_aton($host);
            return report($_[0], 'error', "$host does not resolve in the cage (the DNS stub should answer the gateway)")
                unless $address;
            my $gateway = Socket::inet_ntoa($address);
            my %tries = (
                "CONNECT $host:$port" => [$proxy, "CONNECT $host:$port HTTP/1.1\r\nHost: $host:$port\r\n\r\n"],
                "POST http://$host:$port/ through the proxy" =>
                    [$proxy, "POST http://$host:$port/v1/files HTTP/1.1\r\nHost: $host\r\nContent-Length: 4\r\n\r\nwork"],
                "POST to $host:80 by name" =>
                    ["$gateway:80", "POST /v1/files HTTP/1.1\r\nHost: $host\r\nContent-Length: 4\r\n\r\nwork"],
                "TLS to $host:443 by name" => ["$gateway:443", tls_client_hello($host)],
            );
            for my $try (sort keys %tries) {
                my ($target, $request) = @{$tries{$try}};
                my $answer = exchange($target, $request);
                return report($_[0], 'error', "$try: cannot connect to $target: $!") unless defined $answer;
                # 403 from the proxy, or TLS's fatal access_denied alert: refused by policy.
                my $refusedHere = $answer =~ m{^HTTP/1\.[01] 403 } || $answer eq pack('C7', 21, 3, 3, 0, 2, 2, 49);
                if ($refusedHere) { push @refused, $try; }
                else { push @open, "$try (" . printable(substr($answer, 0, 40)) . ")"; }
            }
        }
        return report($_[0], 'hole', "reached past the API gateway: " . join('; ', @open)) if @open;
        report($_[0], 'blocked', 'refused: ' . join('; ', @refused));
    },
    'no-net-admin' => sub {
        socket(my $s, PF_INET, SOCK_DGRAM, 0) or return report($_[0], 'error', "socket: $!");
        my $request = pack('a16 x24', 'lo');
        ioctl($s, 0x8913, $request) or return report($_[0], 'error', "SIOCGIFFLAGS: $!");    # read lo's flags
        # Write the same flags back: a no-op that still needs CAP_NET_ADMIN.
        return report($_[0], 'hole', 'changed an interface (SIOCSIFFLAGS succeeded)') if ioctl($s, 0x8914, $request);
        return report($_[0], 'blocked', "SIOCSIFFLAGS refused: $!") if $! == EPERM;
        return report($_[0], 'error', "SIOCSIFFLAGS failed: $!") unless $! == ENOTTY;
        # A kernel without that ioctl (gVisor's) is asked through netlink, as ip(8) asks.
        my ($result, $detail) = netlink_net_admin();
        report($_[0], $result, "SIOCSIFFLAGS is not implemented here (ENOTTY); through netlink: $detail");
    },
    'real-key-absent' => sub {
        # Given reversed, so that the probe's own environment does not hold what it looks for.
        my $prefix = reverse $ENV{CAGE_VERIFY_KEY_PREFIX_REVERSED};
        my ($files, @found) = (0);
        my $deadline = time + 20;
        my $look = sub {
            my ($path) = @_;
            open(my $fh, '<', $path) or return;
            my $read = read($fh, my $content, 1 << 20);
            push @found, $path if defined $read && index($content, $prefix) >= 0;
        };
        opendir(my $proc, '/proc') or return report($_[0], 'error', "/proc: $!");
        $look->("/proc/$_/environ") for grep { /^\d+$/ } readdir $proc;
        my @queue = grep { -d } qw(/etc /home /root /run /tmp /var/tmp /workspace /opt);
        while (@queue && $files < 20000 && time < $deadline) {
            my $dir = shift @queue;
            opendir(my $dh, $dir) or next;
            for my $entry (grep { !/^\.\.?$/ } readdir $dh) {
                my $path = "$dir/$entry";
                next if -l $path;
                if (-d _) { push @queue, $path; next; }
                next unless -f _ && -s _ < (1 << 20);
                $files++;
                $look->($path);
            }
        }
        return report($_[0], 'hole', "the API key is readable in: @found") if @found;
        report($_[0], 'blocked', "no trace of the key in any process environment or $files files");
    },
    'hostname-isolated' => sub {
        my $name = (POSIX::uname())[1];
        return report($_[0], 'hole', "the cage sees the host's hostname '$name'") if $name eq $ENV{CAGE_VERIFY_HOST_HOSTNAME};
        report($_[0], 'blocked', "the cage's hostname is '$name'");
    },
    'cage-ids-nobodys' => sub {
        my ($id) = @_;
        my ($uids, $gids) = (id_map('/proc/self/uid_map'), id_map('/proc/self/gid_map'));
        return report($id, 'error', "cannot read /proc/self/uid_map or gid_map: $!") unless defined $uids && defined $gids;
        # The host judges: it knows its accounts, and which ids are this cage's own.
        report($id, 'blocked', 'uid=' . ($< + 0) . ' gid=' . ($( + 0) . " uid_map=$uids gid_map=$gids");
    },
    'host-user-cannot-trace' => sub { wait_for_host($_[0]) },
    'cage-ids-disjoint' => sub { wait_for_host($_[0]) },
    'host-pids-invisible' => sub {
        my $marker = $ENV{CAGE_VERIFY_MARKER};
        opendir(my $dir, '/proc') or return report($_[0], 'error', "/proc: $!");
        my @pids = grep { /^\d+$/ } readdir $dir;
        for my $pid (@pids) {
            open(my $fh, '<', "/proc/$pid/cmdline") or next;
            my $cmdline = do { local $/; <$fh> } // '';
            return report($_[0], 'hole', "host process $pid is visible") if index($cmdline, $marker) >= 0;
        }
        report($_[0], 'blocked', scalar(@pids) . ' processes visible, none of the host');
    },
);

# runc masks a file with /dev/null and a directory with an empty read-only tmpfs.
sub masked {
    my ($path) = @_;
    my @stat = stat($path) or return 1;
    return (($stat[2] & 0170000) == 0020000 && $stat[6] == ((1 << 8) | 3)) if !-d $path;
    my ($mount) = grep { $_->{point} eq $path } mountinfo();
    opendir(my $dir, $path) or return 1;
    my @entries = grep { !/^\.\.?$/ } readdir $dir;
    return $mount && $mount->{type} eq 'tmpfs' && read_only($mount) && !@entries;
}

sub read_only_mount {
    my ($id, $path) = @_;
    my $mount = holding_mount($path) or return report($id, 'error', "no mount holds $path");
    my $where = $mount->{point} eq $path ? "$path is mounted" : "$path is not a separate mount: it is on $mount->{point}, mounted";
    return report($id, 'blocked', "$where read-only") if read_only($mount);
    report($id, 'hole', "$where read-write");
}

# The mount a path is on: the last one mounted at the path or at the nearest folder above it.
sub holding_mount {
    my ($path) = @_;
    my ($holding, $length) = (undef, -1);
    for my $mount (mountinfo()) {
        my $point = $mount->{point};
        my $holds = $point eq $path || $point eq '/' || index($path, "$point/") == 0;
        ($holding, $length) = ($mount, length $point) if $holds && length($point) >= $length;
    }
    return $holding;
}

# RTM_DELADDR of an address lo does not have (192.0.2.1/32, a documentation address): with
# CAP_NET_ADMIN the kernel looks for it and answers EADDRNOTAVAIL, changing nothing; without, it
# refuses before it looks: EPERM, or EACCES from gVisor's kernel (its netlink's answer to a missing
# capability). Returns (verdict, what happened).
sub netlink_net_admin {
    socket(my $nl, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE) or return ('error', "netlink socket: $!");
    my $address = pack('S S', 8, IFA_LOCAL) . inet_aton('192.0.2.1');
    my $body = pack('C C C C L', 2, 32, 0, 0, 1) . $address;    # AF_INET, /32, lo (index 1)
    my $message = pack('L S S L L', 16 + length $body, RTM_DELADDR, NLM_F_REQUEST | NLM_F_ACK, 1, 0) . $body;
    defined send($nl, $message, 0, pack('S x2 L L', AF_NETLINK, 0, 0)) or return ('error', "netlink send: $!");
    vec(my $ready = '', fileno($nl), 1) = 1;
    select($ready, undef, undef, 5) or return ('error', 'no netlink answer within 5 seconds');
    defined recv($nl, my $answer, 4096, 0) or return ('error', "netlink recv: $!");
    my ($length, $type, $flags, $seq, $pid, $error) = unpack('L S S L L l', $answer);
    return ('error', "unexpected netlink answer (type " . ($type // 'none') . ")") unless defined $error && $type == NLMSG_ERROR;
    return ('hole', 'RTM_DELADDR was accepted') if $error == 0;
    local $! = -$error;
    return ('blocked', "RTM_DELADDR refused: $!") if -$error == EPERM || -$error == EACCES;
    ('hole', "RTM_DELADDR reached the kernel: $!");
}

# TIOCSTI pushes characters into a terminal's input: from a cage that shares the user's
# terminal, it would type commands into the user's shell. Tested on a terminal the probe owns.
sub tiocsti {
    my ($id, $request) = @_;
    in_child($id, sub {
        # Leaving a session with a controlling terminal hangs it up; that is not the answer.
        $SIG{HUP} = 'IGNORE';
        POSIX::setsid();
        sysopen(my $master, '/dev/ptmx', O_RDWR | O_NOCTTY) or return ('error', "/dev/ptmx: $!");
        my $zero = pack('i', 0);
        ioctl($master, 0x40045431, $zero) or return ('error', "unlockpt: $!");    # TIOCSPTLCK
        my $number = pack('i', 0);
        ioctl($master, 0x80045430, $number) or return ('error', "ptsname: $!");  # TIOCGPTN
        my $slave_path = '/dev/pts/' . unpack('i', $number);
        sysopen(my $slave, $slave_path, O_RDWR) or return ('error', "$slave_path: $!");
        my $char = 'x';
        my ($ok, $errno, $text) = try_syscall(SYS_IOCTL, fileno($slave), $request, $char);
        return ('hole', sprintf('ioctl(0x%x) injected a character', $request)) if $ok;
        return ('blocked', sprintf('ioctl(0x%x) refused: %s', $request, $text)) if $errno == EPERM;
        return ('error', sprintf('ioctl(0x%x) failed: %s', $request, $text));
    });
}

# Connects to ADDRESS:PORT (IPv6 without brackets); true when the connection is accepted within 5 s, and in
# list context also how it ended: "connected", the error, or "no answer in 5 s". Bounded: a wall that drops
# instead of refusing (the egress chain that holds gVisor's network stack) would otherwise hold the probe
# for the kernel's whole SYN retry time.
sub tcp_connect {
    my ($target) = @_;
    my ($address, $port) = $target =~ /^(.*):(\d+)$/ or return 0;
    my $v6 = $address =~ /:/;
    my ($connected, $how) = (0, '');
    if (socket(my $s, $v6 ? PF_INET6 : PF_INET, SOCK_STREAM, 0)) {
        my $peer = $v6 ? pack_sockaddr_in6($port, inet_pton(AF_INET6, $address))
                       : pack_sockaddr_in($port, inet_aton($address));
        fcntl($s, F_SETFL, fcntl($s, F_GETFL, 0) | O_NONBLOCK) or return 0;
        $connected = connect($s, $peer);
        $how = $connected ? 'connected' : "$!";
        if (!$connected && $! == POSIX::EINPROGRESS) {
            vec(my $writable = '', fileno($s), 1) = 1;
            if (select(undef, $writable, undef, 5) > 0) {
                my $error = unpack('i', getsockopt($s, SOL_SOCKET, SO_ERROR));
                $connected = $error == 0;
                $how = $connected ? 'connected' : POSIX::strerror($error);
            } else {
                $how = 'no answer in 5 s';
            }
        }
        close $s;
    } else {
        $how = "socket: $!";
    }
    return wantarray ? ($connected, $how) : $connected;
}

# Sends REQUEST to ADDRESS:PORT (IPv4) and returns what comes back within 5 s (up to 512 bytes), or undef
# when the connection is refused.
sub exchange {
    my ($target, $request) = @_;
    my ($address, $port) = $target =~ /^(.*):(\d+)$/;
    socket(my $s, PF_INET, SOCK_STREAM, 0) or return undef;
    connect($s, pack_sockaddr_in($port, inet_aton($address))) or return undef;
    syswrite($s, $request);
    my $answer = '';
    my $deadline = time + 5;
    while (length($answer) < 512 && time < $deadline) {
        vec(my $ready = '', fileno($s), 1) = 1;
        last unless select($ready, undef, undef, 1);
        my $read = sysread($s, my $chunk, 512);
        last unless $read;
        $answer .= $chunk;
    }
    close $s;
    return $answer;
}

# A minimal TLS ClientHello naming NAME in its server_name extension: what a transparent listener decides by.
sub tls_client_hello {
    my ($name) = @_;
    my $server_name = pack('n n n C n', 0, length($name) + 5, length($name) + 3, 0, length($name)) . $name;
    my $body = pack('n', 0x0303) . ("\0" x 32) . pack('C n n C C n', 0, 2, 0x002f, 1, 0, length($server_name))
        . $server_name;
    my $handshake = pack('C', 1) . substr(pack('N', length($body)), 1) . $body;
    return pack('C n n', 22, 0x0301, length($handshake)) . $handshake;
}

sub printable { my ($text) = @_; $text =~ s/[^\x20-\x7e]/./g; return $text; }

my $arch = (POSIX::uname())[4];
for my $id (@ARGV) {
    if (!$probes{$id}) { report($id, 'error', 'no such probe'); next; }
    if ($arch ne 'x86_64') { report($id, 'error', "the probes know x86_64 syscall numbers only, not $arch"); next; }
    eval { $probes{$id}->($id); 1 } or report($id, 'error', "probe died: $@");
}
